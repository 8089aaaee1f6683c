"""Hold back Ctrl-C and SIGTERM during `fit` until a callback has saved, then deliver them.

Keras gives callbacks no hook for an exception inside `fit`, and a signal
handler must not save by itself: Python runs it between two bytecodes of the
training thread, possibly in the middle of a training step. So the handler
only notes the signal; the callback looks at the note between batches, saves,
and delivers the signal again to the handler that was there before: Ctrl-C
then raises `KeyboardInterrupt` out of `fit` as usual, and SIGTERM with its
default handler ends the process (exit status 143, -15 in `subprocess`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["InterruptionGuard"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class InterruptionGuard:
    """Notes SIGINT and SIGTERM while installed, and delivers them later.

    `install()` replaces the handlers of SIGINT and SIGTERM (only in the main
    thread, where Python runs handlers, and not for a signal that is ignored
    or handled outside Python). The first signal only sets `received`; a
    second one, before the owner acted on the first, puts the previous
    handler back and delivers the signal at once (a second Ctrl-C stops
    without waiting for the save). `deliver()` puts the previous handlers
    back and raises the noted signal again; `restore()` puts them back
    without delivering anything. Installing over the handler of another
    guard (left behind by a `fit` that failed, since Keras then calls no
    callback) takes that guard's previous handler instead, so a failed run
    never holds back the signals of the next one.

    Examples:
        >>> before = signal.getsignal(signal.SIGTERM)
        >>> guard = InterruptionGuard()
        >>> guard.install()
        >>> guard.received is None
        True
        >>> guard.restore()
        >>> signal.getsignal(signal.SIGTERM) is before
        True
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}
        self._listeners: list[Callable[[int], None]] = []

    @property
    def installed(self) -> bool:
        """Whether any of the handlers is in place."""
        return bool(self._previous)

    @property
    def received_name(self) -> str:
        """The noted signal's name, e.g. `"SIGTERM"`; `"no signal"` when none was noted."""
        return "no signal" if self.received is None else signal.Signals(self.received).name

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call `listener(signum)` at the next delivery, before the signal is raised again."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def install(self) -> None:
        """Put the noting handler in place of the current ones (main thread only)."""
        self.restore()
        self.received = None
        self._listeners = []
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal works only there; a thread's fit keeps the defaults
        for signum in SIGNALS:
            previous = _unwrap(signum, signal.getsignal(signum))
            # None: a handler set outside Python, which we could not put back.
            if previous is None or previous == signal.SIG_IGN:
                continue
            signal.signal(signum, self._note)
            self._previous[signum] = previous

    def restore(self) -> None:
        """Put the previous handlers back (leaving any that someone set since)."""
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            if signal.getsignal(signum) == self._note:
                signal.signal(signum, handler)

    def deliver(self) -> None:
        """Restore the handlers, then raise the noted signal again (if one was noted)."""
        signum, self.received = self.received, None
        self.restore()
        if signum is None:
            return
        listeners, self._listeners = self._listeners, []
        try:
            for listener in listeners:
                listener(signum)
        finally:
            signal.raise_signal(signum)  # even when a listener failed

    def _note(self, signum: int, frame: Any) -> None:
        first = self.received is None
        self.received = signum
        if not first:
            self.deliver()  # the second signal: at once, without the save


def _unwrap(signum: int, handler: Any) -> Any:
    """The handler that was there before `handler`, when it is another guard's; else `handler`."""
    other = getattr(handler, "__self__", None)
    if isinstance(other, InterruptionGuard):
        return other._previous.pop(signum, signal.SIG_DFL)
    return handler
