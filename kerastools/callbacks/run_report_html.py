"""`report.html`: one self-contained page (inline CSS, curves as a base64 PNG, no links out).

The curves are drawn on a matplotlib `Figure` with the Agg canvas (never
pyplot, so a user's figures stay untouched), one panel per metric with its
validation curve, plus the learning rate when it was logged.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from kerastools.log_keys import is_bookkeeping, is_learning_rate

__all__ = ["curves_png", "render_html"]

MAX_PANELS = 6
_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { padding: 0.25em 0.8em;
       border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } .status { display: inline-block; padding: 0.15em 0.7em;
       border-radius: 0.8em; color: white; font-weight: bold; }
.finished { background: #2e7d32; } .stopped { background: #1565c0; }
.interrupted { background: #ef6c00; } .failed { background: #c62828; } .running { background: #757575; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; } .muted { color: #777; }
"""


def _panels(history: Mapping[str, Sequence[Any]]) -> list[tuple[str, list[str]]]:
    """(title, keys) per panel: each trained metric with its `val_` twin, then the learning rate."""
    panels = []
    for key in history:
        if key.startswith("val_") or is_bookkeeping(key) or is_learning_rate(key):
            continue
        panels.append((key, [key] + ([f"val_{key}"] if f"val_{key}" in history else [])))
    rates = [key for key in history if is_learning_rate(key)]
    if rates:
        panels.append(("learning rate", rates))
    return panels[:MAX_PANELS]


def curves_png(epochs: Sequence[int], history: Mapping[str, Sequence[Any]]) -> bytes | None:
    """The training curves as PNG bytes; None when no epoch was logged.

    Examples:
        >>> from kerastools.callbacks.run_report_html import curves_png
        >>> curves_png([1, 2], {"loss": [0.9, 0.5], "val_loss": [1.0, None]})[:4]
        b'\\x89PNG'
    """
    panels = _panels(history)
    if not epochs or not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.0 * rows), dpi=90, layout="constrained")
    FigureCanvasAgg(figure)
    for index, (title, keys) in enumerate(panels, start=1):
        axes = figure.add_subplot(rows, columns, index)
        for key in keys:
            points = [(e, v) for e, v in zip(epochs, history[key], strict=False) if v is not None]
            if points:
                axes.plot(*zip(*points, strict=False), marker="o" if len(points) < 30 else None, label=key)
        if title == "learning rate" and all(
            v is None or v > 0 for key in keys for v in history[key]
        ):
            axes.set_yscale("log")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _rows(pairs: Sequence[tuple[str, Any]]) -> str:
    return "".join(
        f"<tr><th>{html.escape(str(name))}</th><td>{html.escape(_text(value))}</td></tr>"
        for name, value in pairs
    )


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _summary_rows(document: Mapping[str, Any]) -> list[tuple[str, Any]]:
    monitor, rate, speed = document["monitor"], document["learning_rate"], document["samples_per_s"]
    stop = document["stop"] or {}
    return [
        ("stop reason", stop.get("reason")),
        ("stop message", stop.get("message")),
        ("stopped by", stop.get("by")),
        ("epochs run", f"{document['epochs_run']} (from epoch {document['initial_epoch'] + 1})"),
        ("wall time", f"{document['wall_time_s']:.1f} s"),
        (f"best {monitor['key'] or '(no monitored key)'}",
         f"{_text(monitor['best_value'])} at epoch {_text(monitor['best_epoch'])} ({monitor['mode'] or '-'})"),
        ("learning rate", f"{_text(rate['start'])} at the start, {_text(rate['end'])} at the end"),
        ("samples per second", f"{_text(speed['mean'])} mean, {_text(speed['last'])} last epoch"),
    ]


def _checkpoint_section(document: Mapping[str, Any]) -> str:
    parts = []
    for entry in document["checkpoints"]:
        parts.append(f"<p>Directory <code>{html.escape(entry['directory'])}</code></p>")
        if entry["error"]:
            parts.append(f"<p>Its checkpoints could not be listed: {html.escape(entry['error'])}</p>")
        head = "<tr><th>file</th><th>kind</th><th>epoch</th><th>step</th><th>sha256</th></tr>"
        body = "".join(
            f"<tr><td>{html.escape(PurePath(record['path']).name)}</td>"
            + "".join(f"<td>{html.escape(_text(record[key]))}</td>" for key in ("kind", "epoch", "step"))
            + f"<td title='{html.escape(record['sha256'])}'><code>{html.escape(record['sha256'][:16])}"
            "&hellip;</code></td></tr>"
            for record in entry["files"]
        )
        parts.append(f"<table>{head}{body}</table>" if body else "<p class='muted'>No file yet.</p>")
    return "".join(parts) or "<p class='muted'>No checkpoint directory.</p>"


def _pre(value: Any) -> str:
    return f"<pre>{html.escape(json.dumps(value, indent=2, sort_keys=True))}</pre>"


def render_html(document: Mapping[str, Any], png: bytes | None) -> str:
    """The report page for `document` (a checked `report.json` dict), with `png` embedded.

    Examples:
        >>> from kerastools.callbacks.run_report_html import render_html
        >>> _ = model.fit(x, y, epochs=1, verbose=0, callbacks=[kt.callbacks.RunReport(tmp_path)])
        >>> page = render_html(kt.callbacks.read_report(tmp_path), png=None)
        >>> page.startswith("<!DOCTYPE html>"), "status finished" in page
        (True, True)
    """
    status = document["status"]
    image = (
        f'<img alt="training curves" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        if png else "<p class='muted'>No epoch finished yet.</p>"
    )
    metrics = list(document["final_metrics"].items())
    versions = list(document["versions"].items())
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Run report: {html.escape(status)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Run report <span class='status {html.escape(status)}'>{html.escape(status)}</span></h1>"
        f"<p class='muted'>schema_version {document['schema_version']}; written "
        f"{html.escape(_timestamp(document['updated_at']))}</p>"
        f"<table>{_rows(_summary_rows(document))}</table>"
        f"<h2>Training curves</h2>{image}"
        f"<h2>Final metrics</h2><table>{_rows(metrics)}</table>"
        f"<h2>Checkpoints</h2>{_checkpoint_section(document)}"
        f"<h2>Versions</h2><table>{_rows(versions)}</table>"
        f"<h2>fit settings</h2>{_pre(document['fit'])}"
        f"<h2>compile settings</h2>{_pre(document['compile'])}"
        f"<h2>Device</h2>{_pre(document['device'])}"
        "</body></html>"
    )


def _timestamp(seconds: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )
