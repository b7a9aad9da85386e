"""Per-layer gradient norms in TensorBoard (ML2021 L02: one backward pass gives every layer's
gradient).
"""

import numpy as np
import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback

__all__ = ["GradientNormLogger", "layer_gradient_norms"]


def layer_gradient_norms(model, x, y, training=True):
    """‖∂L/∂θ_layer‖₂ for every layer with trainable weights, from ONE backward pass.

    Returns a dict ``{layer name: norm}`` in layer order.
    """
    with tf.GradientTape() as tape:
        y_pred = model(x, training=training)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=training)
    variables = model.trainable_variables
    gradients = tape.gradient(loss, variables)
    by_id = {id(v): g for v, g in zip(variables, gradients, strict=True)}
    norms = {}
    for layer in model.layers:
        grads = [by_id.get(id(v)) for v in layer.trainable_variables]
        grads = [g for g in grads if g is not None]
        if grads:
            norms[layer.name] = float(
                np.sqrt(sum(float(tf.reduce_sum(tf.square(g))) for g in grads))
            )
    return norms


class GradientNormLogger(SummaryCallback):
    """Every ``every`` epochs, log ``gradient_norm/<layer>`` on a fixed batch ``(x, y)``.

    A plain Keras callback: add it to any ``fit``.

    Args:
        log_dir: folder for the event file.
        x, y: the probe batch (keep it small: it costs one extra forward and backward pass).
        every: epochs between two writes (positive int).

    Attributes:
        history: ``[(epoch, {layer: norm})]`` as logged.
    """

    def __init__(self, log_dir, x, y, every=1):
        super().__init__(log_dir, every)
        self.x, self.y = x, y
        self.history = []

    def write(self, step):
        norms = layer_gradient_norms(self.model, self.x, self.y)
        self.history.append((step, norms))
        with self.writer.as_default():
            for name, norm in norms.items():
                tf.summary.scalar(f"gradient_norm/{name}", norm, step=step)
