"""Linear attention against softmax attention as the sequence grows (ML2021 L11): a story.

Both layers are causal, with the same projections (``LinearAttention`` subclasses
``MultiHeadSelfAttention`` and is given its weights); the step is forward + backward. Softmax
attention forms a T × T score matrix per head, ``O(T² d)``; linear attention keeps running sums
``S_t = Σ φ(k) vᵀ``, ``O(T d²)``. The ratio linear / softmax should fall as T grows: above 1 for
short sequences (the d × d state costs more than a few scores), below 1 once T ≫ d.
(``mlcourse run l11-attention-cost`` plots the time and memory of each on its own.)
"""

import numpy as np
import tensorflow as tf

from mlcourse.bench import Comparison, forward_backward
from mlcourse.layers import LinearAttention, MultiHeadSelfAttention


def _build(batch, length, units, heads):
    x = tf.constant(np.random.default_rng(0).normal(size=(batch, length, units)).astype("float32"))
    softmax = MultiHeadSelfAttention(units, heads, causal=True)
    linear = LinearAttention(units, heads, causal=True)
    softmax.build(x.shape)
    linear.build(x.shape)
    linear.set_weights(softmax.get_weights())
    return (
        forward_backward(lambda: linear(x), linear.trainable_variables),
        forward_backward(lambda: softmax(x), softmax.trainable_variables),
    )


def comparisons(smoke=False):
    units, heads, batch = 64, 4, 4
    for length in (64, 256) if smoke else (128, 512, 2048):
        yield Comparison(
            "attention-cost",
            f"causal attention fwd+bwd, T = {length}, units {units}, {heads} heads",
            lambda length=length: _build(batch, length, units, heads),
            ours="LinearAttention",
            reference="softmax MultiHeadSelfAttention",
        )
