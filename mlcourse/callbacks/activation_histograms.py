"""Histograms of chosen layers' outputs in TensorBoard: how their distributions drift in training.

ML2021 L08: without normalisation the inputs of every sigmoid drift as the layers below them learn;
with batch normalization they stay put. Give the layers whose outputs feed the activations (a Dense
or Conv layer without an activation of its own) to see the pre-activations.
"""

import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback, probe_model

__all__ = ["ActivationHistogramLogger"]


class ActivationHistogramLogger(SummaryCallback):
    """Every ``every`` epochs, log ``activations/<layer>``: a histogram of the layer's outputs on a
    fixed batch.

    Args:
        log_dir: folder for the event file.
        x: the probe batch.
        layer_names: layers to watch (default: every layer with weights).
        every: epochs between two histograms (positive int).
    """

    def __init__(self, log_dir, x, layer_names=None, every=1):
        super().__init__(log_dir, every)
        self.x, self.layer_names = x, layer_names
        self._probe = None

    def write(self, step):
        if self._probe is None:
            names = self.layer_names or [layer.name for layer in self.model.layers if layer.weights]
            self._probe = (names, probe_model(self.model, names))
        names, probe = self._probe
        outputs = probe(self.x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        with self.writer.as_default():
            for name, value in zip(names, outputs, strict=True):
                tf.summary.histogram(f"activations/{name}", tf.cast(value, "float32"), step=step)
