"""Where `PeriodicCheckpoint` is in the run: batches counted on the host, and when a step save is due.

Two counts, two meanings. The *period* of `every_steps` is counted in
batches on the host, from the optimizer's step counter at the start of
`fit`, so per-batch work is one addition and never a device read. The
*name* and the record's `step` of a file are `optimizer.iterations`, read
at the save (a save syncs the device anyway). The two differ when the
optimizer skips steps (`LossScaleOptimizer` after an overflow) or when an
epoch of unknown length ends with a batch that yields no data.

A step save falling due on an epoch's last batch belongs to the finished
epoch: `PeriodicCheckpoint` writes a due save at once when the epoch
length is known and batches remain, otherwise at the next
`on_train_batch_begin` (the epoch went on) or at `on_epoch_end` (it had
ended; its logs exist and the record's epoch is the completed one),
whichever comes first.

Examples:
    >>> from kerastools.callbacks.step_counting import StepCounter
    >>> counter = StepCounter(every_steps=3)
    >>> counter.start(first_step=0)
    >>> counter.epoch_begin()
    >>> [counter.batch_end(batch) for batch in range(4)]
    [False, False, True, False]
    >>> counter.batches, counter.host_step
    (4, 4)
"""

from __future__ import annotations

__all__ = ["StepCounter"]


class StepCounter:
    """The host's count of batches and whether an `every_steps` save is due.

    Examples:
        >>> counter = StepCounter(every_steps=None)
        >>> counter.start(first_step=10)
        >>> counter.epoch_begin()
        >>> counter.batch_end(0), counter.due, counter.host_step
        (False, False, 11)

    Args:
        every_steps: the period in batches, or None for no step saves.
    """

    def __init__(self, every_steps: int | None) -> None:
        self.every_steps = every_steps
        self.host_step = 0
        self.batches = 0
        self.due = False

    def start(self, first_step: int) -> None:
        """At `on_train_begin`: count on from the optimizer's step counter."""
        self.host_step = first_step
        self.batches = 0
        self.due = False

    def epoch_begin(self) -> None:
        """At `on_epoch_begin`: no batch of the new epoch is done yet."""
        self.batches = 0

    def batch_end(self, batch: int, steps: int | None = None) -> bool:
        """At `on_train_batch_end(batch)`: count the batches run; whether a save fell due now.

        `batch` is the last batch run (several with `steps_per_execution`);
        `steps` the epoch's length where known. Keras reports a short last
        execution as a whole one (batch 11 of a 10-batch epoch under
        `steps_per_execution=4`): the count stops at the epoch's end. A save
        falls due at the first execution boundary at or after each multiple
        of `every_steps`, counted in optimizer steps (8, 14, 18, 24, 30 for
        every 6 steps of 10-batch epochs under `steps_per_execution=4`).

        Examples:
            >>> counter = StepCounter(every_steps=6)
            >>> counter.start(first_step=0)
            >>> counter.epoch_begin()
            >>> [counter.batch_end(batch, steps=10) for batch in (3, 7, 11)], counter.host_step
            ([False, True, False], 10)
        """
        done = batch + 1 if steps is None else min(batch + 1, steps)
        previous = self.host_step
        self.host_step += done - self.batches
        self.batches = done
        period = self.every_steps
        if period is not None and self.host_step // period > previous // period:
            self.due = True
            return True
        return False

    def saved(self) -> None:
        """A save happened: nothing is due until the next period ends."""
        self.due = False
