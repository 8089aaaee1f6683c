"""Argument checks shared by every public entry point.

Each check raises a kerastools error whose message names the argument, the
value received and what is allowed, in the Keras style:
"Argument `decay_steps` must be > 0. Received: decay_steps=0".
"""

from __future__ import annotations

import math
import numbers
import os
import stat
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from kerastools.errors import ConfigError, ConfigTypeError


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={value!r}"


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Return `value` lower-cased if it is one of `allowed`, else raise ConfigError."""
    allowed = list(allowed)
    if not isinstance(value, str):
        raise ConfigTypeError(
            f"Argument `{name}` must be one of {allowed}. {_received(name, value)}"
        )
    key = value.lower()
    if key not in allowed:
        raise ConfigError(f"Argument `{name}` must be one of {allowed}. {_received(name, value)}")
    return key


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return `value` as a finite Python float within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigTypeError(f"Argument `{name}` must be a number. {_received(name, value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"Argument `{name}` must be a finite number. {_received(name, value)}")
    if low is not None and (number < low or (number == low and not low_inclusive)):
        sign = ">=" if low_inclusive else ">"
        raise ConfigError(f"Argument `{name}` must be {sign} {low}. {_received(name, value)}")
    if high is not None and (number > high or (number == high and not high_inclusive)):
        sign = "<=" if high_inclusive else "<"
        raise ConfigError(f"Argument `{name}` must be {sign} {high}. {_received(name, value)}")
    return number


def check_int(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """Return `value` as a Python int within [low, high]; floats like 3.0 are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigTypeError(f"Argument `{name}` must be an integer. {_received(name, value)}")
    number = int(value)
    if low is not None and number < low:
        raise ConfigError(f"Argument `{name}` must be >= {low}. {_received(name, value)}")
    if high is not None and number > high:
        raise ConfigError(f"Argument `{name}` must be <= {high}. {_received(name, value)}")
    return number


def check_bool(name: str, value: Any) -> bool:
    """Return `value` if it is a bool (numpy bools included)."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy.bool_ without importing numpy here
        return bool(value)
    raise ConfigTypeError(f"Argument `{name}` must be True or False. {_received(name, value)}")


def check_shape(name: str, value: Any, *, ndim: Collection[int] | None = None) -> tuple[int, ...]:
    """Return `value` as a tuple of positive ints (a Keras input shape without the batch axis)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise ConfigTypeError(
            f"Argument `{name}` must be a non-empty tuple of positive integers. "
            f"{_received(name, value)}"
        )
    shape = []
    for dim in value:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim <= 0:
            raise ConfigError(
                f"Argument `{name}` must be a non-empty tuple of positive integers. "
                f"{_received(name, value)}"
            )
        shape.append(int(dim))
    if ndim is not None and len(shape) not in ndim:
        raise ConfigError(
            f"Argument `{name}` must have {' or '.join(map(str, sorted(ndim)))} dimensions "
            f"(batch axis excluded). {_received(name, value)}"
        )
    return tuple(shape)


def check_name(name: str, value: Any, *, allow_none: bool = True) -> str | None:
    """Return `value` if it is a non-empty string (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigTypeError(f"Argument `{name}` must be a non-empty string. {_received(name, value)}")
    return value


def check_path(name: str, value: Any) -> Path:
    """Return `value` as a Path if it is a non-empty str or os.PathLike without a NUL character.

    Examples:
        >>> check_path("directory", "runs/a").name
        'a'
        >>> check_path("directory", "runs" + chr(0) + "a")
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: Argument `directory` must not contain a NUL character. Received: ...
    """
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ConfigTypeError(
            f"Argument `{name}` must be a path (str or os.PathLike), not empty. {_received(name, value)}"
        )
    # The OS cannot name a file with a NUL: refused here, not as a builtin
    # "embedded null byte" from the first open/stat deep inside.
    if "\0" in os.fsdecode(os.fspath(value)):
        raise ConfigError(
            f"Argument `{name}` must not contain a NUL character. {_received(name, value)}"
        )
    return Path(value)


def check_file_target(name: str, value: Any) -> Path:
    """Return `value` as a Path (see `check_path`) whose parent is an existing directory.

    For a file kerastools writes without creating folders: a missing parent, or
    a file where the parent folder should be, is a ConfigError naming `name`
    (not a raw OSError naming the hidden temporary of the atomic write).

    Examples:
        >>> check_file_target("path", tmp_path / "figure.png").name
        'figure.png'
        >>> check_file_target("path", tmp_path / "no-folder" / "figure.png")
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: Argument `path` must be a file in an existing directory; ...
    """
    path = check_path(name, value)
    parent = path.parent
    try:
        problem = None if stat.S_ISDIR(os.stat(parent).st_mode) else "is not a directory"
    except FileNotFoundError:
        problem = "does not exist"
    except NotADirectoryError:
        problem = "is below a file, not a directory"
    except OSError as error:  # no permission, a name too long, ...
        problem = f"cannot be used ({error.strerror})"
    if problem is not None:
        raise ConfigError(
            f"Argument `{name}` must be a file in an existing directory; {str(parent)!r} "
            f"{problem}. {_received(name, value)}"
        )
    return path


# The largest figure any kerastools plot draws or writes: 2**26 pixels (256 MiB as RGBA, e.g.
# 8192 x 8192), and at most 2**16 pixels a side (Agg's own limit). Module-level so a user who
# really wants a bigger image can raise it: `kerastools._validation.MAX_FIGURE_PIXELS = ...`.
MAX_FIGURE_PIXELS = 2**26
MAX_FIGURE_SIDE = 2**16
# The finest resolution (mesh points per axis, histogram bins) a plot computes: more than a
# 4096-pixel-wide figure can show is never visible. Overridable the same way.
MAX_RESOLUTION = 4096


def check_figure_size(name: str, width: float, height: float, dpi: float) -> None:
    """Refuse a figure of `width` x `height` inches at `dpi` larger than `MAX_FIGURE_PIXELS`.

    `name` is the argument reported (e.g. "dpi" or "figsize"); call it before
    matplotlib allocates the canvas, so a huge size is a ConfigError, not a
    `bad_alloc` or a `MemoryError`.
    """
    columns, rows = width * dpi, height * dpi
    if columns * rows > MAX_FIGURE_PIXELS or max(columns, rows) > MAX_FIGURE_SIDE:
        raise ConfigError(
            f"Argument `{name}` makes a figure of {width:g} x {height:g} inches at dpi={dpi:g}: "
            f"{columns:.0f} x {rows:.0f} pixels; allowed: at most {MAX_FIGURE_PIXELS} pixels and "
            f"{MAX_FIGURE_SIDE} a side (kerastools._validation.MAX_FIGURE_PIXELS)."
        )


def check_resolution(name: str, value: Any, *, low: int = 1) -> int:
    """Return `value` as an int in [low, MAX_RESOLUTION] (mesh points per axis, histogram bins)."""
    number = check_int(name, value, low=low)
    if number > MAX_RESOLUTION:
        raise ConfigError(
            f"Argument `{name}` must be <= {MAX_RESOLUTION}, the finest resolution a plot draws "
            f"(kerastools._validation.MAX_RESOLUTION). {_received(name, value)}"
        )
    return number
