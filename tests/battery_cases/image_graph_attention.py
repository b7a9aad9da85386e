"""Battery cases for mlcourse.layers.image_attention and mlcourse.layers.graph_attention (ML2021
L11).
"""

import numpy as np

from mlcourse.layers import GraphSelfAttention, ImageSelfAttention, RelativePositionConvAttention

from battery import BadArg, LayerCase


def _image(seed=0):
    return np.random.default_rng(seed).normal(size=(2, 5, 6, 8)).astype("float32")


def _path_graph(nodes=6):
    adjacency = np.zeros((nodes, nodes), "float32")
    for i in range(nodes - 1):
        adjacency[i, i + 1] = adjacency[i + 1, i] = 1.0
    return adjacency


def _graph(seed=0):
    features = np.random.default_rng(seed).normal(size=(2, 6, 5)).astype("float32")
    return [
        features,
        np.stack([_path_graph(), np.eye(6, k=1, dtype="float32")]),
    ]  # undirected, directed


CASES = [
    LayerCase(
        name="ImageSelfAttention",
        make=lambda: ImageSelfAttention(reduction=4, gamma_initializer="ones"),
        inputs=_image,
        bad_args=[
            BadArg(lambda: ImageSelfAttention(reduction=0), "reduction"),
            BadArg(lambda: ImageSelfAttention(reduction=2.5), "reduction"),
        ],
        atol=1e-6,
    ),
    LayerCase(
        name="RelativePositionConvAttention",
        make=lambda: RelativePositionConvAttention(3, head_dim=2, output_dim=4, sharpness=2.0),
        inputs=_image,
        bad_args=[
            BadArg(lambda: RelativePositionConvAttention(2, head_dim=2), "kernel_size"),
            BadArg(lambda: RelativePositionConvAttention(0, head_dim=2), "kernel_size"),
            BadArg(lambda: RelativePositionConvAttention(3, head_dim=0), "head_dim"),
            BadArg(
                lambda: RelativePositionConvAttention(3, head_dim=2, sharpness=0.0), "sharpness"
            ),
        ],
        atol=1e-6,
    ),
    LayerCase(
        name="GraphSelfAttention",
        make=lambda: GraphSelfAttention(4, hops=2, separate_heads=False),
        inputs=_graph,
        bad_args=[
            BadArg(lambda: GraphSelfAttention(0), "units"),
            BadArg(lambda: GraphSelfAttention(4, hops=0), "hops"),
            BadArg(lambda: GraphSelfAttention(4, separate_heads="yes"), "separate_heads"),
        ],
        atol=1e-6,
    ),
]
