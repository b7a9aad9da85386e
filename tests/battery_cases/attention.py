"""Battery cases for mlcourse.layers.attention and mlcourse.layers.position (ML2021 L10-11)."""

import numpy as np

from mlcourse.layers import (
    DistanceDecayAttention,
    MultiHeadSelfAttention,
    PositionEmbedding,
    SelfAttention,
    SinusoidalPositionalEncoding,
)

from battery import BadArg, LayerCase


def _sequence(batch=2, length=6, features=8, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, length, features)).astype("float32")


def _image(seed=0):
    return np.random.default_rng(seed).normal(size=(2, 3, 4, 5)).astype("float32")


CASES = [
    LayerCase(
        name="SelfAttention",
        make=lambda: SelfAttention(4, score="additive", window=2),
        inputs=_sequence,
        bad_args=[
            BadArg(lambda: SelfAttention(0), "units"),
            BadArg(lambda: SelfAttention(4, score="cosine"), "score"),
            BadArg(lambda: SelfAttention(4, window=-1), "window"),
            BadArg(lambda: SelfAttention(4, dropout=1.5), "dropout"),
        ],
    ),
    LayerCase(
        name="MultiHeadSelfAttention",
        make=lambda: MultiHeadSelfAttention(8, num_heads=2, causal=True),
        inputs=_sequence,
        bad_args=[
            BadArg(lambda: MultiHeadSelfAttention(10, num_heads=3), "num_heads"),
            BadArg(lambda: MultiHeadSelfAttention(8, num_heads=0), "num_heads"),
            BadArg(lambda: MultiHeadSelfAttention(8, 2, window=-3), "window"),
            BadArg(lambda: MultiHeadSelfAttention(8, 2, score="bilinear"), "score"),
            BadArg(lambda: MultiHeadSelfAttention(8, 2, output_dim=0), "output_dim"),
        ],
    ),
    LayerCase(
        name="DistanceDecayAttention",
        make=lambda: DistanceDecayAttention(8, num_heads=2, decay="exponential", tau=2.0),
        inputs=_sequence,
        bad_args=[
            BadArg(lambda: DistanceDecayAttention(8, decay="gaussian"), "decay"),
            BadArg(lambda: DistanceDecayAttention(8, tau=0.0), "tau"),
            BadArg(lambda: DistanceDecayAttention(8, num_heads=3), "num_heads"),
        ],
    ),
    LayerCase(
        name="SinusoidalPositionalEncoding",
        make=lambda: SinusoidalPositionalEncoding(max_wavelength=100.0),
        inputs=_sequence,
        bad_args=[
            BadArg(lambda: SinusoidalPositionalEncoding(max_wavelength=0), "max_wavelength"),
            BadArg(lambda: SinusoidalPositionalEncoding(scale="big"), "scale"),
        ],
    ),
    LayerCase(
        name="PositionEmbedding",
        make=lambda: PositionEmbedding(10),
        inputs=_sequence,
        bad_args=[BadArg(lambda: PositionEmbedding(0), "sequence_length")],
    ),
]

#: The 2-D (pixel distance, ALiBi) form is checked in tests/test_attention.py with the same helpers.
IMAGE_INPUTS = _image
