"""Log the optimizer's learning rate every few updates (ML2021 L06, learning-rate scheduling)."""

import keras
import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback

__all__ = ["LearningRateLogger"]


class LearningRateLogger(SummaryCallback):
    """Write ``learning_rate`` against the update count to TensorBoard.

    Keras's ``TensorBoard`` callback logs the rate once an epoch; a warm-up often ends inside the
    first epoch, so this logs it at updates 1, 1 + every, 1 + 2·every, ... (x axis: updates).

    Args:
        log_dir: folder for the event file.
        every: updates between two writes (positive int).
    """

    unit = "update"

    def __init__(self, log_dir, every=10):
        super().__init__(log_dir, every)

    def due(self, count):
        return (count - 1) % self.every == 0  # the first update, then every `every`

    def write(self, step):
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        with self.writer.as_default():
            tf.summary.scalar("learning_rate", rate, step=step)
