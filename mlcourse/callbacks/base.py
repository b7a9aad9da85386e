"""The base of every callback that writes TensorBoard summaries.

One writer lifecycle (opened on first use, flushed after every write, closed when training ends),
one frequency argument, ``every``, checked in one place, and the helpers several callbacks need: the
optimizer's update count and a probe model that reads chosen layers.

A subclass sets ``unit`` (``"epoch"``, the default, or ``"update"``) and implements
``write(step)``; the base calls it every ``every`` epochs (or updates), after the last epoch too
when ``write_last`` is set (a figure of the final model), and before training when
``write_first`` is set (the starting values). Inside ``write`` it logs with ``self.writer``::

    class GammaLogger(SummaryCallback):
        def write(self, step):
            with self.writer.as_default():
                tf.summary.scalar("gamma", float(self.model.get_layer("bn").gamma[0]), step=step)
"""

import keras
import tensorflow as tf

from mlcourse.validation import check_bool, check_choice, check_positive_int

__all__ = ["SummaryCallback", "probe_model", "update_count"]


def update_count(model):
    """How many updates the model's optimizer has made (``optimizer.iterations`` as an int)."""
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def probe_model(model, layer_names, read="output"):
    """A model from ``model``'s inputs to the ``read`` (``"output"`` or ``"input"``) of each layer
    in ``layer_names``: one output per layer, in order."""
    check_choice("read", read, ("output", "input"))
    tensors = []
    for name in layer_names:
        value = getattr(model.get_layer(name), read)
        tensors.append(value[0] if isinstance(value, (list, tuple)) else value)  # a mask 2nd
    inputs = model.inputs
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, tensors)


class SummaryCallback(keras.callbacks.Callback):
    """Writes TensorBoard summaries to ``log_dir`` every ``every`` epochs (or updates).

    Args:
        log_dir: the folder of the event file (a TensorBoard run); ``None`` for a callback that
            can also just measure (``EpochTimer``, ``WeightTrajectory``).
        every: positive int, how many epochs (``unit = "epoch"``) or updates (``"update"``)
            between two writes.
        write_last: also write after the last epoch when it was not a multiple of ``every``.
        write_first: also write before the first update (step 0), unless training resumes.
    """

    unit = "epoch"

    def __init__(self, log_dir, every=1, write_last=False, write_first=False):
        super().__init__()
        self.log_dir = None if log_dir is None else str(log_dir)
        self.every = check_positive_int("every", every)
        self.write_last = check_bool("write_last", write_last)
        self.write_first = check_bool("write_first", write_first)
        self._writer = None
        self._epochs, self._pending = 0, False

    @property
    def writer(self):
        """The ``tf.summary`` writer of ``log_dir``, opened on first use (None without a folder)."""
        if self._writer is None and self.log_dir is not None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def due(self, count):
        """Whether ``count`` (epochs or updates done) is a multiple of ``every``."""
        return count % self.every == 0

    def write(self, step):
        """Log the summaries of ``step`` with ``self.writer``."""
        raise NotImplementedError

    def write_now(self, step):
        """Write ``step`` outside training (e.g. for a model reloaded instead of trained) and
        close the file."""
        self._write(step)
        self.on_train_end()

    def _write(self, step):
        self.write(step)
        if self._writer is not None:
            self._writer.flush()

    def on_train_begin(self, logs=None):
        if self.write_first and update_count(self.model) == 0:
            self._write(0)

    def on_train_batch_end(self, batch, logs=None):
        if self.unit == "update":
            done = update_count(self.model)
            if self.due(done):
                self._write(done)

    def on_epoch_end(self, epoch, logs=None):
        if self.unit != "epoch":
            return
        self._epochs, self._pending = epoch + 1, not self.due(epoch + 1)
        if not self._pending:
            self._write(epoch + 1)

    def on_train_end(self, logs=None):
        if self.write_last and self._pending:
            self._write(self._epochs)
            self._pending = False
        if self._writer is not None:
            self._writer.close()
            self._writer = None
