"""kerastools.checkpoints.manifest: an invalid manifest is an error that names it."""

from __future__ import annotations

import json

import pytest

from kerastools.checkpoints import list_checkpoints
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
