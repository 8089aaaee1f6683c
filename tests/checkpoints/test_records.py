"""Records: each checkpoint describes itself; the directory listing is the index (issue 22)."""

from __future__ import annotations

import json
import os
import shutil
import zlib
from pathlib import Path

import pytest

from kerastools.checkpoints import list_checkpoints, load_checkpoint
from kerastools.checkpoints.directory import read_index
from kerastools.checkpoints.record import CheckpointInfo, encode_record, parse_record, record_path
from kerastools.checkpoints.store import CheckpointStore
from kerastools.errors import CheckpointError
from tests.checkpoints.helpers import assert_same_weights, make_model

FIXTURES = Path(__file__).parent / "fixtures"


def record(directory, epoch, **extra):
    fields = {"path": directory / f"epoch-{epoch:04d}.weights.h5", "kind": "epoch", "epoch": epoch,
              "step": 10 * epoch, "metrics": {"loss": 1.0 / epoch}, "wall_time": 1.7e9 + epoch,
              "size": 1, "sha256": "", "sequence": epoch}
    return CheckpointInfo(**{**fields, **extra})


def write(directory, info):
    record_path(info.path).write_bytes(encode_record(info))


def test_callback_states_round_trip_in_strict_json(tmp_path):
    states = [{"kind": "ThresholdEarlyStopping", "best": "inf", "values": [0.5, "nan"]}]
    write(tmp_path, record(tmp_path, 1, callback_states=states, monitor="loss", mode="min"))
    raw = (tmp_path / "epoch-0001.weights.h5.json").read_text()
    json.loads(raw, parse_constant=pytest.fail)  # no NaN/Infinity
    (info,) = list_checkpoints(tmp_path)
    assert info.callback_states == states and (info.monitor, info.mode) == ("loss", "min")


@pytest.mark.parametrize(
    "field, value, match",
    [("epoch", 2.5, "field `epoch` must be an integer"), ("kind", "other", "field `kind`"),
     ("file", "../outside.weights.h5", "plain file name"), ("file", "epoch-0002.weights.h5",
     "describes 'epoch-0002.weights.h5', another file"),
     ("callback_states", [{"best": 1}], "`callback_states` of 'epoch-0001"),
     ("format", "something else", "not a 'kerastools-checkpoint-record'"),
     ("version", 99, "newer than this kerastools reads")],
)
def test_an_edited_record_is_refused_naming_it_and_the_field(tmp_path, field, value, match):
    write(tmp_path, record(tmp_path, 1))
    path = tmp_path / "epoch-0001.weights.h5.json"
    document = json.loads(path.read_text())
    document[field] = value
    path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=f"record {path} .*{match}|{match}"):
        list_checkpoints(tmp_path)


def test_a_torn_or_non_json_record_is_refused_but_a_temporary_one_is_ignored(tmp_path):
    write(tmp_path, record(tmp_path, 1))
    raw = encode_record(record(tmp_path, 2))
    (tmp_path / ".epoch-0002.weights.h5.json.x1y2.tmp").write_bytes(raw[:20])  # a kill mid-write
    assert [info.epoch for info in list_checkpoints(tmp_path)] == [1]
    (tmp_path / "epoch-0002.weights.h5.json").write_bytes(raw[:20])  # damaged after the fact
    with pytest.raises(CheckpointError, match="epoch-0002.weights.h5.json is not valid JSON"):
        list_checkpoints(tmp_path)


def test_ten_thousand_records_list_in_sequence_order(tmp_path):
    for epoch in range(1, 10_001):
        write(tmp_path, record(tmp_path, epoch, sequence=10_001 - epoch))  # written in reverse
    records = list_checkpoints(tmp_path)
    assert [info.epoch for info in records] == list(range(10_000, 0, -1))
    assert records[0] == parse_record(tmp_path, encode_record(records[0]),
                                      record_path(records[0].path))


def test_keep_last_removes_the_record_then_the_file_and_a_restart_continues(tmp_path):
    model = make_model()
    store = CheckpointStore(tmp_path, keep_last=2)
    store.open()
    for epoch in (1, 2, 3):
        store.save(model, [(f"epoch-{epoch:04d}.weights.h5", "epoch")], epoch=epoch, step=epoch,
                   logs={"loss": 1.0 / epoch})
    store.close()
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["epoch-0002.weights.h5", "epoch-0002.weights.h5.json",
                     "epoch-0003.weights.h5", "epoch-0003.weights.h5.json"]
    again = CheckpointStore(tmp_path, keep_last=2)
    again.open()
    again.save(model, [("epoch-0004.weights.h5", "epoch")], epoch=4, step=4, logs={})
    again.close()
    assert [(info.epoch, info.sequence) for info in list_checkpoints(tmp_path)] == [(3, 3), (4, 4)]
    restored = make_model()
    assert load_checkpoint(restored, tmp_path).epoch == 4
    assert_same_weights(restored, model.get_weights())


# -- directories written before records: the read-only translator ------------------------------


def test_a_legacy_directory_is_read_without_being_changed(tmp_path):
    directory = shutil.copytree(FIXTURES / "manifest-v2-killed" / "run", tmp_path / "run")
    before = {path.name: path.read_bytes() for path in directory.iterdir()}
    index = read_index(directory)
    assert [info.epoch for info in index.checkpoints] == [2, 3]
    assert (index.best.epoch, index.monitor, index.mode) == (3, "val_loss", "min")
    assert {path.name: path.read_bytes() for path in directory.iterdir()} == before


def test_a_writer_migrates_a_legacy_directory_to_records(tmp_path):
    directory = shutil.copytree(FIXTURES / "manifest-v2" / "run", tmp_path / "run")
    listed = list_checkpoints(directory, include_best=True)
    CheckpointStore(directory).open()
    assert list_checkpoints(directory, include_best=True) == listed
    names = set(os.listdir(directory))
    assert {"manifest.json.migrated", "best.weights.h5.json", "epoch-0004.weights.h5.json"} <= names
    assert "manifest.json" not in names


def journal_line(entry):
    rest = json.dumps(entry).encode()[1:]
    return b'{"crc32": "' + f"{zlib.crc32(rest):08x}".encode() + b'", ' + rest + b"\n"


def test_a_legacy_journal_with_a_damaged_line_before_intact_ones_is_refused(tmp_path):
    directory = shutil.copytree(FIXTURES / "manifest-v2-killed" / "run", tmp_path / "run")
    journal = directory / "manifest.jsonl"
    lines = journal.read_bytes().split(b"\n")
    journal.write_bytes(b"\n".join([lines[0].replace(b"min", b"max"), *lines[1:]]))
    with pytest.raises(CheckpointError, match="manifest.jsonl is not valid .*line 1"):
        list_checkpoints(directory)
    torn = journal_line({"seq": 99, "event": "remove", "file": "x"})[:30]
    journal.write_bytes(b"\n".join(lines) + torn)  # a torn last append is ignored
    assert [info.epoch for info in list_checkpoints(directory)] == [2, 3]


def test_a_fit_resumable_restart_reads_each_record_once_and_hashes_the_chosen_file_once(
    tmp_path, monkeypatch
):
    import threading

    import numpy as np

    import kerastools as kt
    import kerastools.checkpoints.directory as directory_module
    import kerastools.checkpoints.files as files_module

    x = np.random.default_rng(0).uniform(-1, 1, (64, 2)).astype("float32")
    y = x[:, :1] * x[:, 1:]
    kt.fit_resumable(make_model(), x, y, batch_size=16, directory=tmp_path, epochs=2, seed=0,
                     save_best="loss", verbose=0)
    recorded = sorted(path.name for path in tmp_path.glob("*.json"))
    assert len(recorded) == 3  # epoch-0001, epoch-0002, best
    directory_module._PARSED.clear()  # what a new process knows
    opened, hashed = [], []
    real_open, real_hash = files_module._open_regular, files_module.sha256_hex
    monkeypatch.setattr(files_module, "_open_regular", lambda path: opened.append(path.name)
                        or real_open(path))
    monkeypatch.setattr(files_module, "sha256_hex", lambda data: hashed.append(
        (len(data), threading.current_thread() is threading.main_thread())) or real_hash(data))
    history = kt.fit_resumable(make_model(), x, y, batch_size=16, directory=tmp_path, epochs=3,
                               seed=0, save_best="loss", verbose=0)
    assert history.epoch == [2]
    assert sorted(name for name in opened if name.endswith(".json")) == recorded  # each once
    weights = [name for name in opened if not name.endswith(".json")]
    assert weights == ["epoch-0002.weights.h5"]  # the chosen file, opened once
    chosen = (tmp_path / "epoch-0002.weights.h5").stat().st_size
    assert [size for size, reading in hashed if reading] == [chosen]  # and hashed once
    assert len(hashed) == 2  # the other: epoch 3's new bytes, once for all its files
