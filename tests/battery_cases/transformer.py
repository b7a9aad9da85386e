"""Battery cases for mlcourse.layers.linear_attention and mlcourse.layers.transformer (ML2021
L11-12).
"""

import numpy as np

from mlcourse.layers import (
    ConformerBlock,
    LinearAttention,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)

from battery import BadArg, LayerCase


def _sequence(batch=2, length=6, features=8, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, length, features)).astype("float32")


def _targets_and_source():
    return [_sequence(length=5, seed=1), _sequence(length=7, seed=2)]


CASES = [
    LayerCase(
        name="LinearAttention",
        make=lambda: LinearAttention(8, num_heads=2, causal=True),
        inputs=_sequence,
        bad_args=[
            BadArg(lambda: LinearAttention(10, num_heads=3), "num_heads"),
            BadArg(lambda: LinearAttention(8, epsilon=-1.0), "epsilon"),
            BadArg(lambda: LinearAttention(8, causal=1), "causal"),
        ],
    ),
    LayerCase(
        name="TransformerEncoderBlock",
        make=lambda: TransformerEncoderBlock(
            8, num_heads=2, ff_dim=16, dropout=0.1, norm_first=True
        ),
        inputs=_sequence,
        bad_args=[
            BadArg(lambda: TransformerEncoderBlock(10, num_heads=3, ff_dim=16), "num_heads"),
            BadArg(lambda: TransformerEncoderBlock(0, num_heads=1, ff_dim=16), "units"),
            BadArg(lambda: TransformerEncoderBlock(8, 2, ff_dim=0), "ff_dim"),
            BadArg(lambda: TransformerEncoderBlock(8, 2, 16, dropout=1.0), "dropout"),
            BadArg(lambda: TransformerEncoderBlock(8, 2, 16, norm_first="yes"), "norm_first"),
        ],
    ),
    LayerCase(
        name="TransformerDecoderBlock",
        make=lambda: TransformerDecoderBlock(8, num_heads=2, ff_dim=16, dropout=0.1),
        inputs=_targets_and_source,
        bad_args=[
            BadArg(lambda: TransformerDecoderBlock(8, num_heads=3, ff_dim=16), "num_heads"),
            BadArg(lambda: TransformerDecoderBlock(8, 2, ff_dim=-4), "ff_dim"),
            BadArg(lambda: TransformerDecoderBlock(8, 2, 16, dropout=-0.1), "dropout"),
            BadArg(lambda: TransformerDecoderBlock(8, 2, 16, norm_first=None), "norm_first"),
        ],
    ),
    LayerCase(
        name="ConformerBlock",
        make=lambda: ConformerBlock(8, num_heads=2, kernel_size=3, ff_expansion=2, dropout=0.1),
        inputs=_sequence,
        bad_args=[
            BadArg(lambda: ConformerBlock(8, num_heads=3), "num_heads"),
            BadArg(lambda: ConformerBlock(8, 2, kernel_size=4), "kernel_size"),
            BadArg(lambda: ConformerBlock(8, 2, kernel_size=0), "kernel_size"),
            BadArg(lambda: ConformerBlock(8, 2, ff_expansion=0), "ff_expansion"),
            BadArg(lambda: ConformerBlock(8, 2, dropout=1.2), "dropout"),
        ],
    ),
]
