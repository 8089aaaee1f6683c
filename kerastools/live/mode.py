"""Where a live figure (LivePlot, LiveSweep) draws: its `mode`, the `KERASTOOLS_LIVEPLOT` override, the chief rule.

The environment variable `KERASTOOLS_LIVEPLOT` (`off`, `file`, `notebook`,
`widget` or `auto`) overrides `mode` for every LivePlot in the process: set it
to `off` in CI, or to `file` to get PNGs from a notebook run headless.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Literal

from kerastools.errors import ConfigError

__all__ = ["ENV_VAR", "MODES", "PlotMode", "resolve_mode"]

logger = logging.getLogger(__name__)

PlotMode = Literal["auto", "notebook", "widget", "file", "off"]
MODES: tuple[str, ...] = ("auto", "notebook", "widget", "file", "off")
ENV_VAR = "KERASTOOLS_LIVEPLOT"


def resolve_mode(mode: str) -> str:
    """The mode a LivePlot runs in: `"notebook"`, `"widget"`, `"file"` or `"off"`.

    `KERASTOOLS_LIVEPLOT` beats `mode`; `"auto"` means `"notebook"` in a
    Jupyter kernel, else `"file"`; a worker that is not the chief draws
    nothing.

    Examples:
        >>> import os
        >>> os.environ["KERASTOOLS_LIVEPLOT"]  # the test session turns LivePlot off
        'off'
        >>> resolve_mode("file")
        'off'

    Raises:
        ConfigError: `KERASTOOLS_LIVEPLOT` is set to an unknown mode.
    """
    override = os.environ.get(ENV_VAR, "").strip().lower()
    if override:
        if override not in MODES:
            raise ConfigError(
                f"Environment variable {ENV_VAR} must be one of {list(MODES)}. "
                f"Received: {ENV_VAR}={os.environ[ENV_VAR]!r}"
            )
        mode = override
    if mode == "auto":
        mode = "notebook" if _in_ipython_kernel() else "file"
    if mode != "off" and not _is_chief():
        logger.debug("LivePlot: not the chief worker; drawing nothing.")
        return "off"
    return mode


def _in_ipython_kernel() -> bool:
    """True inside a Jupyter kernel (notebook, lab, VS Code, Colab), not a terminal IPython."""
    ipython = sys.modules.get("IPython")  # no IPython imported: certainly no kernel
    get_ipython = getattr(ipython, "get_ipython", None)
    if not callable(get_ipython):
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _is_chief() -> bool:
    """Whether this process draws and writes: the chief of a multi-worker job."""
    from kerastools.checkpoints import is_chief  # one rule for every file kerastools writes

    return is_chief()
