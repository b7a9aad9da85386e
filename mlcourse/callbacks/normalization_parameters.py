"""Log every batch-norm layer's learnt γ (scale) and β (shift) to TensorBoard (ML2021 L08).

The student's question in lecture 8 was what γ and β are and how they are decided: they are ordinary
weights, learnt by gradient descent, that start at γ = 1, β = 0. Watching them move during training
shows where the network chose to undo part of the normalisation.
"""

import keras
import numpy as np

__all__ = ["NormalizationParameterLogger", "normalization_layers"]


def normalization_layers(model):
    """Layers of `model` (recursively) with a `gamma` or `beta` weight, e.g. `BatchNorm` and Keras's twins."""
    found = []
    for layer in getattr(model, "layers", []):
        if getattr(layer, "gamma", None) is not None or getattr(layer, "beta", None) is not None:
            found.append(layer)
        found.extend(normalization_layers(layer))
    return found


class NormalizationParameterLogger(keras.callbacks.Callback):
    """Every `every_n_epochs` epochs write, for each normalization layer, γ and β as histograms and
    their mean and standard deviation over channels as scalars (`gamma/<layer>/mean`, ...).

    Args:
        log_dir: folder for the event file.
        every_n_epochs: positive int.

    The scalars are also kept in `self.history` (`{"<layer>/gamma/mean": [...], ...}`) for tables.
    """

    def __init__(self, log_dir, every_n_epochs=1):
        super().__init__()
        if (
            isinstance(every_n_epochs, bool)
            or not isinstance(every_n_epochs, int)
            or every_n_epochs < 1
        ):
            raise ValueError(f"every_n_epochs must be a positive integer, got {every_n_epochs!r}")
        self.log_dir = str(log_dir)
        self.every_n_epochs = every_n_epochs
        self.history = {}
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(self.log_dir)
        self._log(
            step=0
        )  # the values before the first update (γ = 1, β = 0 unless initialised otherwise)

    def on_train_end(self, logs=None):
        self._writer.close()

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self._log(step=epoch + 1)

    def _log(self, step):
        import tensorflow as tf

        with self._writer.as_default():
            for layer in normalization_layers(self.model):
                for name in ("gamma", "beta"):
                    variable = getattr(layer, name, None)
                    if variable is None:
                        continue
                    values = np.asarray(keras.ops.convert_to_numpy(variable), dtype="float32")
                    tf.summary.histogram(f"{name}/{layer.name}", values, step=step)
                    for stat, value in (("mean", values.mean()), ("std", values.std())):
                        tf.summary.scalar(f"{name}/{layer.name}/{stat}", float(value), step=step)
                        self.history.setdefault(f"{layer.name}/{name}/{stat}", []).append(
                            float(value)
                        )
        self._writer.flush()
