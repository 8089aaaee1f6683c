"""The `report.json` a `RunReport` writes: its schema, reading and checking it, and a terminal table.

`SCHEMA` names every top-level key with the JSON types it may hold; the
recipe page (docs/recipes/run-report.md) documents the same table, and
`check_report` enforces it, so a reader of version 1 can rely on each key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kerastools._reading import read_regular
from kerastools._validation import check_path
from kerastools.errors import ConfigError
from kerastools.log_keys import is_bookkeeping

__all__ = [
    "HTML_NAME",
    "JSON_NAME",
    "SCHEMA",
    "SCHEMA_VERSION",
    "STATUSES",
    "check_report",
    "read_report",
    "report_table",
]

SCHEMA_VERSION = 1
JSON_NAME = "report.json"
# `read_report` refuses a report.json larger than this (a real one is a few kilobytes).
MAX_REPORT_BYTES = 64 << 20
HTML_NAME = "report.html"
STATUSES = ("running", "finished", "stopped", "interrupted", "failed")

# key: the JSON types its value may have ("null" where it may be missing information).
SCHEMA: dict[str, tuple[str, ...]] = {
    "schema_version": ("integer",),
    "status": ("string",),
    "stop": ("object", "null"),
    "started_at": ("number",),
    "updated_at": ("number",),
    "wall_time_s": ("number",),
    "initial_epoch": ("integer",),
    "epochs_run": ("integer",),
    "epochs": ("array",),
    "history": ("object",),
    "final_metrics": ("object",),
    "monitor": ("object",),
    "learning_rate": ("object",),
    "samples_per_s": ("object",),
    "checkpoints": ("array",),
    "device": ("object", "null"),
    "versions": ("object",),
    "fit": ("object",),
    "compile": ("object",),
}
# Keys inside the objects above, with their types.
NESTED: dict[str, dict[str, tuple[str, ...]]] = {
    "stop": {"by": ("string",), "reason": ("string",), "message": ("string",), "epoch": ("integer", "null")},
    "monitor": {"key": ("string", "null"), "mode": ("string", "null"),
                "best_epoch": ("integer", "null"), "best_value": ("number", "null")},
    "learning_rate": {"start": ("number", "null"), "end": ("number", "null")},
    "samples_per_s": {"mean": ("number", "null"), "last": ("number", "null")},
    "versions": {"python": ("string",), "keras": ("string",), "backend": ("string",),
                 "backend_version": ("string", "null"), "kerastools": ("string", "null")},
    "compile": {"optimizer": ("object", "null"), "loss": ("string", "object", "array", "null"),
                "metrics": ("array",)},
}
_TYPES = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def _check_types(where: str, document: Mapping[str, Any], schema: Mapping[str, tuple[str, ...]]) -> None:
    missing = [key for key in schema if key not in document]
    if missing:
        raise ConfigError(f"The run report {where}has no {missing}. Received keys: {sorted(document)}")
    for key, types in schema.items():
        if not any(_TYPES[name](document[key]) for name in types):
            raise ConfigError(
                f"The run report's {where}{key!r} must be {' or '.join(types)}. "
                f"Received: {key}={document[key]!r}"
            )


def check_report(document: Any) -> dict[str, Any]:
    """Check `document` against schema version 1; return it.

    Examples:
        >>> from kerastools.callbacks.run_report_schema import check_report
        >>> check_report({"schema_version": 2})
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: The run report has schema_version=2; this kerastools reads version 1.

    Raises:
        ConfigError: a key is missing or holds the wrong type, or the
            status or version is not one this kerastools knows.
    """
    if not isinstance(document, dict):
        raise ConfigError(f"A run report is a JSON object. Received: {type(document).__name__}")
    if document.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            f"The run report has schema_version={document.get('schema_version')!r}; "
            f"this kerastools reads version {SCHEMA_VERSION}."
        )
    _check_types("", document, SCHEMA)
    for key, schema in NESTED.items():
        if document[key] is not None:
            _check_types(f"{key!r} ", document[key], schema)
    if document["status"] not in STATUSES:
        raise ConfigError(f"The run report's status must be one of {STATUSES}. Received: {document['status']!r}")
    for entry in document["checkpoints"]:
        _check_types("checkpoints entry ", entry, {"directory": ("string",), "files": ("array",),
                                                  "error": ("string", "null")})
        for record in entry["files"]:
            _check_types("checkpoint file ", record, {"path": ("string",), "kind": ("string",),
                                                      "epoch": ("integer",), "step": ("integer",),
                                                      "sha256": ("string",)})
    return document


def read_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the `report.json` in directory `path` (or the file `path` itself).

    Examples:
        >>> from kerastools.callbacks.run_report_schema import read_report
        >>> read_report(tmp_path)
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: No run report at .../report.json: ...

    Raises:
        ConfigError: no such file, not JSON, or not a valid report.
        ConfigTypeError: `path` is not a path.
    """
    target = check_path("path", path)
    if target.is_dir():
        target = target / JSON_NAME
    try:
        text = read_regular(target, MAX_REPORT_BYTES).decode("utf-8", errors="replace")
    except OSError as error:
        raise ConfigError(
            f"No run report at {target}: {error.strerror or error}. A RunReport writes "
            f"{JSON_NAME} into its directory when training starts. Received: path={str(path)!r}"
        ) from None
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ConfigError(f"The run report {target} is not valid JSON: {error}") from None
    return check_report(document)


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def report_table(document: Mapping[str, Any]) -> str:
    """A short two-column table of a report, for a terminal (`python -m kerastools report DIR`).

    Examples:
        >>> from kerastools.callbacks.run_report_schema import report_table
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[kt.callbacks.RunReport(tmp_path)])
        >>> print(report_table(kt.callbacks.read_report(tmp_path)).splitlines()[0])
        status        finished
    """
    monitor, rate, speed = document["monitor"], document["learning_rate"], document["samples_per_s"]
    stop = document["stop"] or {}
    versions = document["versions"]
    files = [record for entry in document["checkpoints"] for record in entry["files"]]
    rows = [
        ("status", document["status"]),
        ("stop reason", stop.get("reason", "-")),
        ("stop message", stop.get("message", "-")),
        ("epochs", f"{document['epochs_run']} (from epoch {document['initial_epoch'] + 1})"),
        ("wall time", f"{document['wall_time_s']:.1f} s"),
        (f"best {monitor['key'] or '-'}",
         f"{_number(monitor['best_value'])} at epoch {_number(monitor['best_epoch'])}"),
        ("learning rate", f"{_number(rate['start'])} -> {_number(rate['end'])}"),
        ("samples/s", f"{_number(speed['mean'])} (last epoch {_number(speed['last'])})"),
    ]
    rows += [(f"final {key}", _number(value)) for key, value in document["final_metrics"].items()
             if not is_bookkeeping(key)]
    rows.append(("checkpoints", f"{len(files)} file(s)" + (f", last {Path(files[-1]['path']).name}"
                                                           if files else "")))
    rows.append(("versions", f"keras {versions['keras']}, {versions['backend']} "
                             f"{versions['backend_version'] or '?'}, python {versions['python']}"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
