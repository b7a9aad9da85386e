"""mlcourse MultiHeadSelfAttention against keras.layers.MultiHeadAttention (ML2021 L10-L11).

Both hold the same weights (checked: equal outputs to 1e-4 before timing); the step is forward +
backward of one self-attention layer. Target: median ratio ≤ 1.2.
"""

import keras
import numpy as np
import tensorflow as tf

from mlcourse.bench import Comparison, forward_backward
from mlcourse.layers import MultiHeadSelfAttention


def _build(batch, length, width, heads):
    x = tf.constant(np.random.default_rng(0).normal(size=(batch, length, width)).astype("float32"))
    theirs = keras.layers.MultiHeadAttention(heads, width // heads)
    theirs(x, x)
    ours = MultiHeadSelfAttention(width, heads)
    ours.build(x.shape)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), theirs(x, x).numpy(), atol=1e-4)
    return (
        forward_backward(lambda: ours(x), ours.trainable_variables),
        forward_backward(lambda: theirs(x, x), theirs.trainable_variables),
    )


def comparisons(smoke=False):
    shapes = [(8, 16, 32, 4)] if smoke else [(32, 32, 64, 4), (32, 64, 128, 8), (16, 128, 128, 4)]
    for shape in shapes:
        batch, length, width, heads = shape
        yield Comparison(
            "attention",
            f"self-attention fwd+bwd, {batch}x{length}x{width}, {heads} heads",
            lambda shape=shape: _build(*shape),
            target=1.2,
            ours="MultiHeadSelfAttention",
            reference="MultiHeadAttention",
        )
