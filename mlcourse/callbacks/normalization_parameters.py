"""Log every batch-norm layer's learnt γ (scale) and β (shift) to TensorBoard (ML2021 L08).

The student's question in lecture 8 was what γ and β are and how they are decided: they are ordinary
weights, learnt by gradient descent, that start at γ = 1, β = 0. Watching them move during training
shows where the network chose to undo part of the normalisation.
"""

import keras
import numpy as np
import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback

__all__ = ["NormalizationParameterLogger", "normalization_layers"]


def normalization_layers(model):
    """Layers of ``model`` (recursively) with a ``gamma`` or ``beta`` weight: ``BatchNorm`` and
    Keras's twins."""
    found = []
    for layer in getattr(model, "layers", []):
        if getattr(layer, "gamma", None) is not None or getattr(layer, "beta", None) is not None:
            found.append(layer)
        found.extend(normalization_layers(layer))
    return found


class NormalizationParameterLogger(SummaryCallback):
    """Before training and every ``every`` epochs write, for each normalization layer, γ and β as
    histograms (``gamma/<layer>``) and their mean and standard deviation over channels as scalars
    (``gamma/<layer>/mean``, ...).

    Args:
        log_dir: folder for the event file.
        every: epochs between two writes (positive int).

    The scalars are also kept in ``self.history`` (``{"<layer>/gamma/mean": [...], ...}``).
    """

    def __init__(self, log_dir, every=1):
        super().__init__(log_dir, every, write_first=True)
        self.history = {}

    def write(self, step):
        with self.writer.as_default():
            for layer in normalization_layers(self.model):
                for name in ("gamma", "beta"):
                    variable = getattr(layer, name, None)
                    if variable is None:
                        continue
                    values = np.asarray(keras.ops.convert_to_numpy(variable), dtype="float32")
                    tf.summary.histogram(f"{name}/{layer.name}", values, step=step)
                    for stat, value in (("mean", values.mean()), ("std", values.std())):
                        tf.summary.scalar(f"{name}/{layer.name}/{stat}", float(value), step=step)
                        key = f"{layer.name}/{name}/{stat}"
                        self.history.setdefault(key, []).append(float(value))
