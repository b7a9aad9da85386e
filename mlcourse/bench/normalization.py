"""mlcourse BatchNorm against keras.layers.BatchNormalization (ML2021 L08).

The same compiled training step for both: output, a loss, gradients with respect to the input, γ and
β, and the moving-statistics update, on the same inputs. Target: median ratio ≤ 1.2.
"""

import keras
import numpy as np
import tensorflow as tf

from mlcourse.bench import Comparison
from mlcourse.layers import BatchNorm


def _step(layer, shape):
    layer.build(shape)
    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, size=shape).astype("float32"))
    weights = tf.constant(np.random.default_rng(1).normal(size=shape).astype("float32"))

    @tf.function(jit_compile=False)
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * weights)
        return tape.gradient(loss, [x, layer.gamma, layer.beta])

    return step


def comparisons(smoke=False):
    shapes = (
        {"dense": (64, 128), "conv": (8, 14, 14, 16)}
        if smoke
        else {"dense": (512, 1024), "conv": (64, 28, 28, 32)}
    )
    for kind, shape in shapes.items():
        yield Comparison(
            "normalization",
            f"BatchNorm forward+backward, {kind} {shape}",
            lambda shape=shape: (
                _step(BatchNorm(), shape),
                _step(keras.layers.BatchNormalization(), shape),
            ),
            target=1.2,
            ours="BatchNorm",
            reference="BatchNormalization",
        )
