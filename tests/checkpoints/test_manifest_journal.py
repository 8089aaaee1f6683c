"""The manifest's journal: torn appends, old manifests, pruning across compaction, cost per save."""

from __future__ import annotations

import json

import pytest

from kerastools.checkpoints import list_checkpoints, load_checkpoint
from kerastools.checkpoints import manifest_writer as manifest_writer_module
from kerastools.checkpoints.journal import JournalWriter, decode_journal, encode_entry
from kerastools.checkpoints.manifest import (
    JOURNAL_NAME,
    MANIFEST_NAME,
    CheckpointInfo,
    read_manifest,
)
from kerastools.checkpoints.manifest_writer import ManifestWriter
from kerastools.checkpoints.store import CheckpointStore
from kerastools.errors import CheckpointError
from tests.checkpoints.helpers import assert_same_weights, make_model


def info(directory, epoch, kind="epoch"):
    name = "best.weights.h5" if kind == "best" else f"epoch-{epoch:04d}.weights.h5"
    return CheckpointInfo(directory / name, kind, epoch, 10 * epoch, metrics={"loss": 1.0 / epoch},
                          wall_time=1.7e9 + epoch, size=1000 + epoch, sha256=f"{epoch:064x}")


def add_entry(directory, seq, epoch):
    return {"seq": seq, "event": "add", "checkpoint": info(directory, epoch)._to_record()}


def write_records(directory, count):
    """`count` epoch records straight into the journal, as the store's writer would put them."""
    journal = JournalWriter(directory)
    journal.append(add_entry(directory, epoch, epoch) for epoch in range(1, count + 1))
    journal.close()


def test_a_torn_last_line_is_ignored_at_every_byte(tmp_path):
    write_records(tmp_path, 3)
    raw = (tmp_path / JOURNAL_NAME).read_bytes()
    last_start = raw.rindex(b"\n", 0, len(raw) - 1) + 1
    for cut in range(last_start, len(raw) + 1):
        (tmp_path / JOURNAL_NAME).write_bytes(raw[:cut])
        epochs = [record.epoch for record in list_checkpoints(tmp_path)]
        assert epochs == ([1, 2, 3] if cut == len(raw) else [1, 2]), cut


def test_a_writer_cuts_a_torn_line_off_before_it_appends(tmp_path):
    write_records(tmp_path, 2)
    raw = (tmp_path / JOURNAL_NAME).read_bytes()
    (tmp_path / JOURNAL_NAME).write_bytes(raw + encode_entry(add_entry(tmp_path, 3, 9))[:40])
    writer = ManifestWriter(tmp_path)
    writer.open(keep_last=None)
    writer.commit(writer.add(info(tmp_path, 3), keep_last=None))
    writer.release()  # as after a kill: no compaction
    content = decode_journal((tmp_path / JOURNAL_NAME).read_bytes())
    assert not content.torn and [entry["seq"] for entry in content.entries] == [1, 2, 3]
    assert [record.epoch for record in list_checkpoints(tmp_path)] == [1, 2, 3]


def test_a_damaged_line_before_intact_ones_is_an_error_naming_the_journal(tmp_path):
    write_records(tmp_path, 3)
    raw = bytearray((tmp_path / JOURNAL_NAME).read_bytes())
    raw[raw.index(b"epoch-0002")] ^= 1  # a flipped bit in the second of three lines
    (tmp_path / JOURNAL_NAME).write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"manifest\.jsonl is not valid \(line 2"):
        list_checkpoints(tmp_path)


def test_a_gap_in_the_sequence_is_an_error(tmp_path):
    journal = JournalWriter(tmp_path)
    journal.append([add_entry(tmp_path, 1, 1), add_entry(tmp_path, 3, 3)])
    journal.close()
    with pytest.raises(CheckpointError, match="journal entry 3 follows entry 1"):
        list_checkpoints(tmp_path)


def old_manifest(directory, version, **extra):
    record = {"file": "epoch-0001.weights.h5", "kind": "epoch", "epoch": 1, "step": 2,
              "metrics": {"loss": 0.5}, "wall_time": 1.7e9, "size": 10, "sha256": "ab" * 32,
              "includes_optimizer": True, **extra}
    # The layout 0.1 and the journal-less version wrote: one record per line, no `sequence`.
    (directory / MANIFEST_NAME).write_text(
        f'{{"format": "kerastools-checkpoints", "version": {version}, "monitor": "loss", '
        f'"mode": "min",\n "checkpoints": [\n  {json.dumps(record)}\n ],\n "best": null,\n'
        ' "pending": []}\n'
    )


@pytest.mark.parametrize("extra", [{}, {"callback_states": [{"kind": "EpochTimer", "total": 1.5}]}],
                         ids=["0.1", "with-callback-states"])
def test_a_manifest_without_journal_still_loads_and_a_store_continues_it(tmp_path, extra):
    old_manifest(tmp_path, 1, **extra)
    (info_1,) = list_checkpoints(tmp_path)
    assert (info_1.epoch, info_1.step, info_1.metrics) == (1, 2, {"loss": 0.5})
    assert info_1.callback_states == extra.get("callback_states", [])
    writer = ManifestWriter(tmp_path)
    assert writer.open(keep_last=None).monitor == "loss"
    writer.commit(writer.add(info(tmp_path, 2), keep_last=None))
    assert [record.epoch for record in list_checkpoints(tmp_path)] == [1, 2]  # snapshot + journal
    writer.close()
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["sequence"] == 1
    assert [record.epoch for record in list_checkpoints(tmp_path)] == [1, 2]


def test_ten_thousand_journal_records_read_back_in_order(tmp_path):
    write_records(tmp_path, 10_000)
    records = list_checkpoints(tmp_path)
    assert [record.epoch for record in records] == list(range(1, 10_001))
    assert records[-1] == info(tmp_path, 10_000)


def save_epochs(store, model, epochs):
    for epoch in epochs:
        store.save(model, [(f"epoch-{epoch:04d}.weights.h5", "epoch")], epoch=epoch, step=epoch,
                   logs={"loss": 1.0 / epoch})


def files(directory):
    # Without the open store's lock file (tests/checkpoints/test_writers.py checks it).
    return sorted(path.name for path in directory.iterdir() if path.name != ".kerastools.lock")


def test_keep_last_prunes_through_the_journal_a_mid_run_compaction_and_a_restart(
    tmp_path, monkeypatch
):
    model = make_model()
    monkeypatch.setattr(manifest_writer_module, "COMPACT_AFTER_LINES", 3)
    store = CheckpointStore(tmp_path, keep_last=2)
    store.open()
    save_epochs(store, model, [1, 2, 3])  # 3 adds + 1 remove: not over 2 * 2 + 3 lines
    entries = decode_journal((tmp_path / JOURNAL_NAME).read_bytes()).entries
    assert [(entry["event"], entry.get("file")) for entry in entries][-1] == (
        "remove", "epoch-0001.weights.h5"
    )
    assert files(tmp_path) == ["epoch-0002.weights.h5", "epoch-0003.weights.h5", JOURNAL_NAME]
    save_epochs(store, model, [4, 5])  # 8 lines > 7: compacted mid-run
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["sequence"] == 8
    assert not (tmp_path / JOURNAL_NAME).exists()
    assert [record.epoch for record in list_checkpoints(tmp_path)] == [4, 5]
    store.close()
    assert files(tmp_path) == ["epoch-0004.weights.h5", "epoch-0005.weights.h5", MANIFEST_NAME]
    again = CheckpointStore(tmp_path, keep_last=2)
    again.open()
    save_epochs(again, model, [6])
    assert [record.epoch for record in list_checkpoints(tmp_path)] == [5, 6]
    again.close()
    assert files(tmp_path) == ["epoch-0005.weights.h5", "epoch-0006.weights.h5", MANIFEST_NAME]
    restored = make_model()
    assert load_checkpoint(restored, tmp_path).epoch == 6
    assert_same_weights(restored, model.get_weights())


def one_save_after(tmp_path, model, records):
    """Bytes a save appends to the journal of a run with `records` records; asserts it
    leaves the snapshot alone."""
    directory = tmp_path / f"run-{records}"
    directory.mkdir()
    write_records(directory, records)
    store = CheckpointStore(directory)
    store.open()
    before = (directory / JOURNAL_NAME).stat().st_size
    name = f"epoch-{records + 1:04d}.weights.h5"
    store.save(model, [(name, "epoch")], epoch=records + 1, step=records + 1, logs={"loss": 0.5})
    appended = (directory / JOURNAL_NAME).read_bytes()[before:]
    (entry,) = decode_journal(appended).entries  # one line: this save's record
    assert (entry["event"], entry["checkpoint"]["file"]) == ("add", name)
    assert not (directory / MANIFEST_NAME).exists()  # the whole index is not rewritten
    assert len(read_manifest(directory).checkpoints) == records + 1
    store.close()
    return len(appended)


def test_what_a_save_writes_to_the_manifest_does_not_grow_with_the_records(tmp_path):
    model = make_model()
    early, late = one_save_after(tmp_path, model, 10), one_save_after(tmp_path, model, 1_000)
    # One line at both: it differs only by the digits of its numbers (seq, epoch, step, time).
    assert 0 < early < 1_000 and abs(late - early) < 20
    assert len(list_checkpoints(tmp_path / "run-1000")) == 1_001  # after close() compacted
