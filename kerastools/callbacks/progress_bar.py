"""Keras' progress bar, with kerastools' bookkeeping keys left off the line.

`LearningRateLogger` and `EpochTimer` write `iterations`, `epoch_time_s` and
`samples_per_s` into `logs` so that `History`, `CSVLogger` and TensorBoard get
them; printed after every epoch they make Keras' one-line summary wrap. This
bar prints what Keras prints, less those keys; everything still reaches
`History`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import keras

from kerastools._validation import check_name
from kerastools.errors import ConfigTypeError
from kerastools.log_keys import BOOKKEEPING_KEYS

__all__ = ["ProgressBar"]


class ProgressBar(keras.callbacks.ProgbarLogger):
    """Keras' `ProgbarLogger` that leaves the `hide` keys off the printed line.

    Pass it in `callbacks` and Keras uses it instead of its own bar (it still
    follows `fit(verbose=...)`); `kt.callbacks.standard()` includes one.

    Examples:
        >>> history = model.fit(x, y, epochs=1, verbose=0, callbacks=[
        ...     kt.callbacks.EpochTimer(), kt.callbacks.ProgressBar()])
        >>> "samples_per_s" in history.history  # hidden from the line, not from History
        True

    Args:
        hide: the keys not to print. Defaults to
            `kerastools.log_keys.BOOKKEEPING_KEYS` (`iterations`,
            `epoch_time_s`, `samples_per_s`); the learning rate stays. A
            name also hides the keys it prefixes with `_` (`iterations_g_optimizer`).

    Raises:
        ConfigTypeError: `hide` is not a collection of key names.
    """

    def __init__(self, hide: Iterable[str] = BOOKKEEPING_KEYS) -> None:
        super().__init__()
        if isinstance(hide, str) or not isinstance(hide, Iterable):
            raise ConfigTypeError(
                f"Argument `hide` must be a collection of logs keys. Received: hide={hide!r}"
            )
        self.hide = frozenset(str(check_name("hide", key, allow_none=False)) for key in hide)

    def _shown(self, logs: Mapping[str, Any] | None) -> dict[str, Any]:
        return {key: value for key, value in (logs or {}).items() if not self._hidden(key)}

    def _hidden(self, key: str) -> bool:
        # `iterations` also hides `iterations_d_optimizer`: one counter per optimizer of a GAN.
        return key in self.hide or any(key.startswith(f"{name}_") for name in self.hide)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        super().on_train_batch_end(batch, self._shown(logs))

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        super().on_epoch_end(epoch, self._shown(logs))
