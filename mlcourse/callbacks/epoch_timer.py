"""Time every epoch and every update (ML2021 L05, batch size: time per epoch vs time per update)."""

import json
import os
import time

import numpy as np
import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback, update_count
from mlcourse.record import write_json

__all__ = ["EpochTimer"]


class EpochTimer(SummaryCallback):
    """Measure the training time of each epoch and divide it by the updates the epoch made.

    An epoch's time runs from ``on_epoch_begin`` to the end of its last training batch, so the
    validation pass is not counted. Updates are counted from ``optimizer.iterations``, which stays
    right with ``steps_per_execution > 1``. The first epoch includes tracing the train step;
    ``summary()`` leaves it out when there are later epochs and takes the fastest of the rest (other
    programs on the machine can only slow an epoch down, so the minimum is the least disturbed
    measurement).

    Args:
        log_dir: optional folder; if given, ``timing/seconds_per_epoch`` and
            ``timing/seconds_per_update`` are written there with ``tf.summary`` each epoch, and the
            measurements are kept in ``timing.json`` there, so a resumed fit (``BackupAndRestore``,
            ``runner.Run.fit``) or a finished variant that is not trained again still has every
            epoch's timing.

    Attributes:
        seconds: training seconds of each epoch.
        updates: optimizer updates made in each epoch.
    """

    def __init__(self, log_dir=None):
        super().__init__(log_dir, every=1)
        self._timings = {}  # epoch -> (seconds, updates)
        if self.log_dir is not None and os.path.exists(self._path()):
            with open(self._path()) as handle:
                self._timings = {int(e): tuple(v) for e, v in json.load(handle).items()}
        self._start = self._last_batch_end = None
        self._updates = 0
        self._epoch = 0

    @property
    def seconds(self):
        return [self._timings[e][0] for e in sorted(self._timings)]

    @property
    def updates(self):
        return [self._timings[e][1] for e in sorted(self._timings)]

    def _path(self):
        return os.path.join(self.log_dir, "timing.json")

    def on_epoch_begin(self, epoch, logs=None):
        self._updates = update_count(self.model)
        self._start = self._last_batch_end = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._last_batch_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = self._last_batch_end - self._start
        self._timings[epoch] = (seconds, update_count(self.model) - self._updates)
        self._epoch = epoch
        super().on_epoch_end(epoch, logs)

    def write(self, step):
        if self.log_dir is None:
            return
        seconds, done = self._timings[self._epoch]
        write_json(self._path(), {str(e): v for e, v in sorted(self._timings.items())})
        with self.writer.as_default():
            tf.summary.scalar("timing/seconds_per_epoch", seconds, step=self._epoch)
            tf.summary.scalar("timing/seconds_per_update", seconds / max(done, 1), step=self._epoch)

    def summary(self):
        """``{"seconds_per_epoch", "seconds_per_update"}``: the fastest epoch after the first."""
        if not self.seconds:
            raise ValueError("summary() needs at least one timed epoch (call it after fit)")
        timed = slice(1, None) if len(self.seconds) > 1 else slice(None)
        seconds, done = np.array(self.seconds[timed]), np.array(self.updates[timed])
        return {
            "seconds_per_epoch": float(np.min(seconds)),
            "seconds_per_update": float(np.min(seconds / np.maximum(done, 1))),
        }
