"""Linear attention: self-attention whose cost grows linearly with the sequence length.

ML2021 L11, self-attention variants (efficient attention). Katharopoulos et al. 2020, "Transformers
are RNNs": replace the softmax similarity ``exp(q · k)`` by a kernel ``φ(q) · φ(k)`` with the
feature map ``φ(x) = elu(x) + 1`` (always positive). Then the sum over keys factorises::

    b^i = Σ_j φ(q^i)ᵀ φ(k^j) v^j / Σ_j φ(q^i)ᵀ φ(k^j)
        = φ(q^i)ᵀ (Σ_j φ(k^j) v^jᵀ)  /  φ(q^i)ᵀ (Σ_j φ(k^j))
        = φ(q^i)ᵀ S  /  φ(q^i)ᵀ z                       S = Σ_j φ(k^j) v^jᵀ  (d × d),  z = Σ_j
        φ(k^j)

``S`` and ``z`` are computed once, so the cost is ``O(T d²)`` instead of ``O(T² d)``. With the
causal mask (``j <= i``) the sums become running sums, which is an RNN whose state is
``(S_t, z_t)``::

    S_t = S_{t−1} + φ(k^t) v^tᵀ       z_t = z_{t−1} + φ(k^t)       b^t = φ(q^t)ᵀ S_t / φ(q^t)ᵀ z_t

``LinearAttention.call`` computes all positions at once (parallel form, cumulative sums for the
causal case); ``LinearAttention.recurrent`` steps through time with the state above. Both give the
same outputs (``tests/test_linear_attention.py``).
"""

import keras
from keras import ops

from mlcourse.layers.attention import MultiHeadSelfAttention
from mlcourse.layers.inputs import check_mask
from mlcourse.validation import check_bool, check_positive

__all__ = ["LinearAttention", "elu_feature_map"]


def elu_feature_map(x):
    """φ(x) = elu(x) + 1: positive, so ``φ(q)ᵀ φ(k) > 0`` acts as an unnormalised attention
    weight.
    """
    return ops.elu(x) + ops.cast(1.0, x.dtype)


@keras.saving.register_keras_serializable(package="mlcourse")
class LinearAttention(MultiHeadSelfAttention):
    """Multi-head linear attention (Katharopoulos et al. 2020), causal or not.

    ML2021 L11, self-attention variants: ``b^i = φ(q^i)ᵀ S_i / φ(q^i)ᵀ z_i`` with
    ``φ(x) = elu(x) + 1``, ``S_i = Σ_{j∈V(i)} φ(k^j) v^jᵀ`` and ``z_i = Σ_{j∈V(i)} φ(k^j)``, where
    ``V(i)`` is all positions (non-causal) or ``j <= i`` (causal). The heads, projections and output
    matrix are those of ``MultiHeadSelfAttention`` (same weights, same layout); only the softmax is
    replaced by the kernel ``φ(q)ᵀ φ(k)``.

    Args:
        units: total width of the queries (``heads × d``); must be divisible by ``num_heads``.
        num_heads: the number of heads.
        causal: if True position ``i`` only sees ``j <= i`` (then ``recurrent`` is the RNN form).
        output_dim: width of the output; by default the input width.
        use_bias: whether the projections have biases.
        epsilon: a float > 0 added to the normaliser ``φ(q)ᵀ z``.
        kernel_initializer, bias_initializer: for the projections.

    Call arguments:
        inputs: ``(batch, T, features)``.
        mask: optional ``(batch, T)`` boolean padding mask; padding tokens are left out of ``S`` and
            ``z``.
        training: unused (no dropout on kernel weights).

    Returns:
        ``(batch, T, output_dim)``.
    """

    shared_arguments = ("causal", "use_bias", "kernel_initializer", "bias_initializer")

    def __init__(
        self,
        units,
        num_heads=1,
        causal=True,
        output_dim=None,
        use_bias=True,
        epsilon=1e-6,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            units,
            num_heads,
            output_dim=output_dim,
            causal=check_bool("causal", causal),
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.epsilon = check_positive("epsilon", epsilon)

    def _features(self, inputs, mask):
        """``φ(q)``, ``φ(k)``, ``v`` as ``(batch, heads, T, d)``; padding keys and values are
        zeroed.
        """
        check_mask(self, inputs, mask)
        query = elu_feature_map(self.project(inputs, "query"))
        key = elu_feature_map(self.project(inputs, "key"))
        value = self.project(inputs, "value")
        if mask is not None:
            keep = ops.cast(mask, key.dtype)[:, None, :, None]
            key, value = key * keep, value * keep
        return query, key, value

    def _normalise(self, numerator, denominator):
        return numerator / (denominator[..., None] + ops.cast(self.epsilon, numerator.dtype))

    def call(self, inputs, mask=None, training=None):
        """Parallel form: all positions at once."""
        query, key, value = self._features(inputs, mask)
        if self.causal:  # S_i, z_i as cumulative sums over j <= i
            state = ops.cumsum(key[..., :, None] * value[..., None, :], axis=2)  # (b, h, T, d, d)
            normaliser = ops.cumsum(key, axis=2)  # (b, h, T, d)
            numerator = ops.einsum("bhtd,bhtde->bhte", query, state)
            denominator = ops.sum(query * normaliser, axis=-1)
        else:  # one S and one z for every query
            state = ops.einsum("bhtd,bhte->bhde", key, value)
            numerator = ops.einsum("bhtd,bhde->bhte", query, state)
            denominator = ops.einsum("bhtd,bhd->bht", query, ops.sum(key, axis=2))
        return self.merge(self._normalise(numerator, denominator))

    def recurrent(self, inputs, mask=None):
        """RNN form: step through time with the state ``(S_t, z_t)`` (causal layers only).

        ``S_t = S_{t−1} + φ(k^t) v^tᵀ``, ``z_t = z_{t−1} + φ(k^t)``,
        ``b^t = φ(q^t)ᵀ S_t / φ(q^t)ᵀ z_t``.

        Args:
            inputs: ``(batch, T, features)``.
            mask: optional ``(batch, T)`` boolean padding mask.

        Returns:
            ``(batch, T, output_dim)``, equal to ``call`` (up to rounding).
        """
        if not self.causal:
            raise ValueError("recurrent() needs causal=True (a non-causal layer sees the future)")
        if not self.built:
            self.build(tuple(inputs.shape))
        if inputs.shape[1] is None:
            raise ValueError(
                "recurrent() needs a static sequence length, got inputs.shape=" + str(inputs.shape)
            )
        query, key, value = self._features(
            ops.cast(inputs, self.compute_dtype), mask
        )  # (b, h, T, d)
        batch, depth = ops.shape(key)[0], self.head_dim
        state = ops.zeros((batch, self.num_heads, depth, depth), key.dtype)  # S_0 = 0
        normaliser = ops.zeros((batch, self.num_heads, depth), key.dtype)  # z_0 = 0
        outputs = []
        for t in range(inputs.shape[1]):
            q_t, k_t, v_t = query[:, :, t], key[:, :, t], value[:, :, t]  # (b, h, d)
            state = state + k_t[..., :, None] * v_t[..., None, :]
            normaliser = normaliser + k_t
            outputs.append(
                self._normalise(
                    ops.einsum("bhd,bhde->bhe", q_t, state), ops.sum(q_t * normaliser, -1)
                )
            )
        return self.merge(ops.stack(outputs, axis=2))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
