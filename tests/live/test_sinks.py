"""The LivePlot output sinks share one interface; a file sink that cannot write gives up once."""

from __future__ import annotations

import inspect

from kerastools.live import sinks
from kerastools.live.sinks import FileSink, NotebookSink, Sink, WidgetSink


def test_every_sink_has_the_base_class_interface():
    base = inspect.signature(Sink.publish)
    for sink in (FileSink, NotebookSink, WidgetSink):
        assert issubclass(sink, Sink) and inspect.signature(sink.publish) == base


def test_file_sink_stops_after_the_first_failure(monkeypatch, tmp_path, caplog):
    calls = []

    def broken_write(*args, **kwargs):
        calls.append(args)
        raise PermissionError("read-only file system")

    monkeypatch.setattr(sinks, "atomic_write", broken_write)
    sink = FileSink(tmp_path / "new" / "live.png")
    assert (tmp_path / "new").is_dir()
    with caplog.at_level("WARNING", logger="kerastools.callbacks.live_plot"):
        sink.publish(b"png")
        sink.publish(b"png", final=True)
    assert len(calls) == 1 and sink.failed and caplog.text.count("cannot write") == 1
