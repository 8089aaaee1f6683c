"""kerastools.checkpoints.manifest: an invalid manifest is an error that names it."""

from __future__ import annotations

import json

import pytest

from kerastools.checkpoints import list_checkpoints
from kerastools.checkpoints.manifest import CheckpointInfo, Manifest, read_manifest, write_manifest
from kerastools.errors import CheckpointError


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"format": "something else"}),
     json.dumps({"format": "kerastools-checkpoints", "version": 1, "checkpoints": [
         {"file": "../outside.weights.h5", "kind": "epoch", "epoch": 1, "step": 1, "metrics": {},
          "wall_time": 0, "size": 1, "sha256": "", "includes_optimizer": True}]})],
    ids=["not-json", "other-format", "path-outside"],
)
def test_invalid_manifest_is_an_error(tmp_path, content):
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(CheckpointError, match="manifest .* is not valid"):
        list_checkpoints(tmp_path)


def _record(**extra):
    return {"file": "epoch-0001.weights.h5", "kind": "epoch", "epoch": 1, "step": 1, "metrics": {},
            "wall_time": 0, "size": 1, "sha256": "", "includes_optimizer": True, **extra}


def _write(directory, record):
    (directory / "manifest.json").write_text(json.dumps(
        {"format": "kerastools-checkpoints", "version": 1, "checkpoints": [record]}))


def test_callback_states_round_trip_in_strict_json(tmp_path):
    states = [{"kind": "ThresholdEarlyStopping", "best": "inf", "values": [0.5, "nan"]}]
    manifest = Manifest(tmp_path)
    manifest.add(CheckpointInfo(tmp_path / "epoch-0001.weights.h5", "epoch", 1, 2,
                                callback_states=states), keep_last=None)
    write_manifest(manifest)
    json.loads((tmp_path / "manifest.json").read_text(), parse_constant=pytest.fail)  # no NaN/Infinity
    assert read_manifest(tmp_path).checkpoints[0].callback_states == states


def test_record_without_callback_states_loads_with_none_and_is_written_as_before(tmp_path):
    _write(tmp_path, _record())
    (info,) = list_checkpoints(tmp_path)
    assert info.callback_states == []
    write_manifest(read_manifest(tmp_path))
    assert "callback_states" not in (tmp_path / "manifest.json").read_text()


@pytest.mark.parametrize("states", ["oops", [{"best": 1}], [{"kind": 3}], [[1]]])
def test_damaged_callback_states_are_an_error_naming_the_field(tmp_path, states):
    _write(tmp_path, _record(callback_states=states))
    with pytest.raises(CheckpointError, match=r"manifest .* is not valid \(`callback_states` of 'epoch-0001"):
        list_checkpoints(tmp_path)
