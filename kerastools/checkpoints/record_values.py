"""The checks of each field a manifest record holds, as read from `manifest.json` or its journal.

A record is JSON someone may have edited: `epoch` must be an integer
(`2.9` is not two epochs, `true` is not one), `file` a plain file name of
the directory (no NUL, no `..`, no path separator), `size` an integer of
bytes, `wall_time` and metrics finite numbers. Each check raises a
`ValueError` naming the field, the value and what is allowed; the manifest
reader turns it into a `CheckpointError` naming the file.

Examples:
    >>> check_count("epoch", 3)
    3
    >>> check_count("epoch", 2.9)
    Traceback (most recent call last):
    ...
    ValueError: field `epoch` must be an integer >= 0, not 2.9
"""

from __future__ import annotations

import math
from typing import Any, Literal

__all__ = [
    "KERAS_KINDS", "MANIFEST_KINDS", "Kind",
    "check_count", "check_file_name", "check_flag", "check_kind", "check_metrics", "check_real",
]

# What a record is, the one definition: the kinds a manifest holds (periodic files and the
# best file), and those of Keras' own files, recorded when they are read
# (checkpoints.keras_sources), never written to a manifest.
Kind = Literal["epoch", "step", "best", "keras-file", "keras-backup"]
MANIFEST_KINDS: tuple[Kind, ...] = ("epoch", "step", "best")
KERAS_KINDS: tuple[Kind, ...] = ("keras-file", "keras-backup")


def check_count(name: str, value: Any) -> int:
    """`value` as an integer >= 0 (not a bool, not a float).

    Examples:
        >>> check_count("size", -5)
        Traceback (most recent call last):
        ...
        ValueError: field `size` must be an integer >= 0, not -5
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"field `{name}` must be an integer >= 0, not {value!r:.80}")
    return value


def check_real(name: str, value: Any) -> float:
    """`value` as a finite float (an int or a float, not a bool).

    Examples:
        >>> check_real("wall_time", 1.5)
        1.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"field `{name}` must be a finite number, not {value!r:.80}")
    return float(value)


def check_flag(name: str, value: Any) -> bool:
    """`value`, which must be `true` or `false`.

    Examples:
        >>> check_flag("includes_optimizer", True)
        True
    """
    if not isinstance(value, bool):
        raise ValueError(f"field `{name}` must be true or false, not {value!r:.80}")
    return value


def check_kind(value: Any) -> Kind:
    """`value` as the kind of a manifest's record: `"epoch"`, `"step"` or `"best"`.

    Examples:
        >>> check_kind("best")
        'best'
        >>> import typing
        >>> typing.get_args(Kind) == MANIFEST_KINDS + KERAS_KINDS
        True
    """
    if value not in MANIFEST_KINDS:
        raise ValueError(f"field `kind` must be one of {MANIFEST_KINDS}, not {value!r:.80}")
    return value  # type: ignore[no-any-return]


def check_metrics(value: Any) -> dict[str, float | None]:
    """`value` as the `metrics` object: names to finite numbers or null.

    Examples:
        >>> check_metrics({"loss": 0.5, "val_loss": None})
        {'loss': 0.5, 'val_loss': None}
    """
    if not isinstance(value, dict):
        raise ValueError(f"field `metrics` must be an object, not {value!r:.80}")
    return {
        str(key): None if number is None else check_real(f"metrics.{key}", number)
        for key, number in value.items()
    }


def check_file_name(value: Any) -> str:
    """`value` as a plain file name of the directory.

    Examples:
        >>> check_file_name("..")
        Traceback (most recent call last):
        ...
        ValueError: field `file` must be a plain file name of the checkpoint directory (no NUL, no path separator, not '.' or '..'), not '..'
    """
    if (
        not isinstance(value, str)
        or value in ("", ".", "..")
        or any(char in value for char in "\0/\\")
    ):
        raise ValueError(
            "field `file` must be a plain file name of the checkpoint directory (no NUL, no "
            f"path separator, not '.' or '..'), not {value!r:.80}"
        )
    return value
