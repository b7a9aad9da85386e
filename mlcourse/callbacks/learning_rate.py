"""Log the optimizer's learning rate every few updates (ML2021 L06, learning-rate scheduling)."""

import keras

__all__ = ["LearningRateLogger"]


class LearningRateLogger(keras.callbacks.Callback):
    """Write ``learning_rate`` against the update count to TensorBoard.

    Keras's ``TensorBoard`` callback logs the rate once an epoch; a warm-up often ends inside the first
    epoch, so this logs it every ``every_n_updates`` updates (x axis = optimizer iterations).

    Args:
        log_dir: folder for the event file.
        every_n_updates: positive int, how often to log.
    """

    def __init__(self, log_dir, every_n_updates=10):
        super().__init__()
        if int(every_n_updates) < 1:
            raise ValueError(f"every_n_updates must be a positive integer, got {every_n_updates}")
        self.log_dir = str(log_dir)
        self.every_n_updates = int(every_n_updates)
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_train_batch_end(self, batch, logs=None):
        optimizer = self.model.optimizer
        step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        if (step - 1) % self.every_n_updates:  # updates 1, 1 + n, 1 + 2n, ...
            return
        import tensorflow as tf

        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        with self._writer.as_default():
            tf.summary.scalar("learning_rate", rate, step=step)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
