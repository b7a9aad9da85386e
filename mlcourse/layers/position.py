"""Positional encodings: telling self-attention where each token is.

ML2021 L11, positional encoding. Self-attention alone is permutation-equivariant: it has no idea
which token came first. Adding a position vector ``e^i`` to each input, ``a^i + e^i``, fixes that,
either hand-crafted (sinusoidal, "Attention is all you need") or learned (one trainable vector per
position, as in BERT).
"""

import keras
from keras import ops

from mlcourse.layers.inputs import input_spec
from mlcourse.validation import check_float, check_positive_int

__all__ = ["PositionEmbedding", "SinusoidalPositionalEncoding"]


@keras.saving.register_keras_serializable(package="mlcourse")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal position vectors of the Transformer.

    ML2021 L11, positional encoding (hand-crafted ``e^i``). For position ``p`` and feature pair
    ``(2k, 2k+1)`` of a ``d``-wide input::

        e^p_{2k}   = sin(p / λ^{2k/d})
        e^p_{2k+1} = cos(p / λ^{2k/d})          (λ = max_wavelength, 10 000 in the paper)

    Each pair is a clock turning at its own speed, so ``e^{p+δ}`` is a fixed rotation of ``e^p``:
    relative offsets are linear functions of the encodings. No weights; any length works.

    Args:
        max_wavelength: λ, the longest wavelength, a positive number.
        scale: the encoding is multiplied by this before it is added.

    Call arguments:
        inputs: ``(batch, T, d)``; the padding mask, if any, passes through.

    Returns:
        ``inputs + scale · e`` with the same shape.
    """

    def __init__(self, max_wavelength=10000.0, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = check_float("max_wavelength", max_wavelength, low=0, low_open=True)
        self.scale = check_float("scale", scale)
        self.input_spec = keras.layers.InputSpec(ndim=3)  # (batch, T, d), any T and d
        self.supports_masking = True

    def encoding(self, length, width):
        """The ``(length, width)`` table of ``e^p``, in the compute dtype."""
        positions = ops.cast(ops.arange(length), "float32")[:, None]
        pair = ops.cast(ops.arange(width) // 2 * 2, "float32")  # 2k for features 2k and 2k+1
        angles = positions / ops.power(self.max_wavelength, pair / float(width))[None, :]
        is_even = (ops.arange(width) % 2 == 0)[None, :]
        return ops.cast(ops.where(is_even, ops.sin(angles), ops.cos(angles)), self.compute_dtype)

    def call(self, inputs):
        table = self.encoding(ops.shape(inputs)[1], inputs.shape[-1])
        return inputs + ops.cast(self.scale, self.compute_dtype) * table[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength, "scale": self.scale}


@keras.saving.register_keras_serializable(package="mlcourse")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector for each position.

    ML2021 L11, positional encoding ("learned from data"): ``a^i + e^i`` with ``e^i`` a trainable
    row of a ``(sequence_length, d)`` table, one per position up to ``sequence_length``.

    Args:
        sequence_length: the longest sequence the table covers, a positive integer.
        initializer: for the table.

    Call arguments:
        inputs: ``(batch, T, d)`` with ``T <= sequence_length``; the padding mask passes through.

    Returns:
        ``inputs + e[:T]`` with the same shape.
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape[1] is not None and input_shape[1] > self.sequence_length:
            raise ValueError(
                f"sequence_length={self.sequence_length} is shorter than the inputs "
                f"({input_shape[1]} positions)"
            )
        self.table = self.add_weight(
            name="table",
            shape=(self.sequence_length, input_shape[-1]),
            initializer=self.initializer,
        )
        self.input_spec = input_spec(input_shape)

    def call(self, inputs):
        table = ops.cast(self.table[: ops.shape(inputs)[1]], self.compute_dtype)
        return inputs + table[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "sequence_length": self.sequence_length,
            "initializer": keras.initializers.serialize(self.initializer),
        }
