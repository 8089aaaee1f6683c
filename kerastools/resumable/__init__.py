"""Exact resume: batches in an order fixed by (seed, epoch), and `fit_resumable`.

`kerastools.fit_resumable(model, x, y, directory=...)` trains with
checkpoints; run the same call after a kill and it continues at the next
batch of the interrupted epoch, with the batch order, the metrics' totals,
the seed generators' states and the kerastools callbacks' state of the
interrupted run. Its modules: `batches` (`ResumableBatches`, the data) and
`fitting` (`fit_resumable`).
"""

from kerastools.resumable.batches import ResumableBatches
from kerastools.resumable.fitting import fit_resumable

__all__ = ["ResumableBatches", "fit_resumable"]
