"""ImageSelfAttention (SAGAN) and GraphSelfAttention (ML2021 L11):
the maths, not just the plumbing.
"""

import keras
import networkx as nx
import numpy as np
import pytest

from mlcourse.layers import GraphSelfAttention, ImageSelfAttention, hop_masks


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _image(shape=(2, 4, 5, 8), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# ---------------------------------------------------------------------------------------------
# ImageSelfAttention


def test_image_attention_is_the_identity_at_initialisation():
    x = _image()
    layer = ImageSelfAttention(reduction=4)
    np.testing.assert_array_equal(_numpy(layer(x)), x)
    layer.gamma.assign(1.0)  # the check can fail: with the gate open the output moves
    assert np.abs(_numpy(layer(x)) - x).max() > 1e-3


def test_image_attention_matches_the_sagan_formula():
    x = _image()
    layer = ImageSelfAttention(reduction=2, gamma_initializer=keras.initializers.Constant(0.7))
    layer.build(x.shape)
    for variable in layer.trainable_variables:  # non-zero biases so that every term is checked
        if variable.path.endswith("bias"):
            variable.assign(np.random.default_rng(1).normal(size=variable.shape).astype("float32"))
    out, beta = layer(x, return_attention_scores=True)

    (wf, bf), (wg, bg), (wh, bh), (wv, bv) = [
        tuple(_numpy(t) for t in p) for p in (layer.f, layer.g, layer.h, layer.v)
    ]
    pixels = x.reshape(2, -1, 8)
    s = (pixels @ wf + bf) @ np.swapaxes(pixels @ wg + bg, 1, 2)
    expected_beta = np.exp(s - s.max(-1, keepdims=True))
    expected_beta /= expected_beta.sum(-1, keepdims=True)
    o = (expected_beta @ (pixels @ wh + bh)) @ wv + bv
    expected = 0.7 * o.reshape(x.shape) + x
    assert wf.shape == (8, 4) and wh.shape == (8, 8)
    np.testing.assert_allclose(_numpy(beta), expected_beta, atol=1e-5)
    np.testing.assert_allclose(_numpy(out), expected, atol=1e-4)


def test_image_attention_map_covers_all_pixels_and_rows_sum_to_one():
    x = _image((1, 3, 3, 4))
    _, beta = ImageSelfAttention(reduction=1)(x, return_attention_scores=True)
    beta = _numpy(beta)
    assert beta.shape == (1, 9, 9)
    np.testing.assert_allclose(beta.sum(-1), 1.0, atol=1e-6)
    assert (beta > 0).all()  # global: every pixel sees every pixel


# ---------------------------------------------------------------------------------------------
# GraphSelfAttention


def _path_adjacency(nodes):
    return nx.to_numpy_array(nx.path_graph(nodes), dtype="float32")


def _features(nodes=6, features=5, seed=0):
    return np.random.default_rng(seed).normal(size=(1, nodes, features)).astype("float32")


def test_hop_masks_are_the_shortest_path_rings():
    graph = nx.karate_club_graph()
    adjacency = nx.to_numpy_array(graph, dtype="float32")
    rings = _numpy(hop_masks(adjacency, 3))[0]
    distance = dict(nx.all_pairs_shortest_path_length(graph))
    for k in range(1, 4):
        expected = np.array(
            [[distance[i].get(j, -1) == k or (k == 1 and i == j) for j in graph] for i in graph]
        )
        np.testing.assert_array_equal(rings[k - 1], expected)


def _changed_node(layer, adjacency, node, target):
    x = _features()
    before = _numpy(layer([x, adjacency]))
    x2 = x.copy()
    x2[0, node] += 5.0
    after = _numpy(layer([x2, adjacency]))
    return np.abs(after[0, target] - before[0, target]).max()


@pytest.mark.parametrize("separate_heads", [True, False])
def test_graph_attention_ignores_nodes_beyond_its_hops(separate_heads):
    adjacency = _path_adjacency(6)  # 0 - 1 - 2 - 3 - 4 - 5
    one_hop = GraphSelfAttention(4, hops=1, separate_heads=separate_heads)
    assert _changed_node(one_hop, adjacency, node=2, target=0) == 0.0  # 2 hops away: unseen
    assert _changed_node(one_hop, adjacency, node=1, target=0) > 1e-3  # a neighbour: seen
    two_hop = GraphSelfAttention(4, hops=2, separate_heads=separate_heads)
    assert _changed_node(two_hop, adjacency, node=2, target=0) > 1e-3  # the 2-hop neighbour matters
    assert _changed_node(two_hop, adjacency, node=3, target=0) == 0.0  # 3 hops away: unseen


def test_graph_attention_weights_live_on_the_rings():
    adjacency = _path_adjacency(5)
    _, weights = GraphSelfAttention(3, hops=2)(
        [_features(5), adjacency], return_attention_scores=True
    )
    weights = _numpy(weights)[0]
    rings = _numpy(hop_masks(adjacency, 2))[0]
    assert weights.shape == (2, 5, 5)
    assert (weights[~rings] == 0).all()
    np.testing.assert_allclose(
        weights.sum(-1), 1.0, atol=1e-6
    )  # every node of a path has a 2-hop ring


@pytest.mark.backends
def test_graph_attention_shared_adjacency_equals_batched_adjacency():
    adjacency = _path_adjacency(6)
    x = np.concatenate([_features(seed=0), _features(seed=1)])
    layer = GraphSelfAttention(4, hops=2)
    np.testing.assert_allclose(
        _numpy(layer([x, adjacency])), _numpy(layer([x, np.stack([adjacency] * 2)])), atol=1e-6
    )


@pytest.mark.backends
def test_graph_attention_on_a_complete_graph_is_keras_multi_head_attention():
    x = _features(nodes=7, features=6)
    ours = GraphSelfAttention(4, hops=1)
    theirs = keras.layers.MultiHeadAttention(num_heads=1, key_dim=4, output_shape=4)
    ours([x, np.ones((7, 7), "float32")])
    theirs(x, x)
    theirs.set_weights(
        [
            np.random.default_rng(i).normal(size=w.shape).astype("float32")
            for i, w in enumerate(theirs.get_weights())
        ]
    )
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(
        _numpy(ours([x, np.ones((7, 7), "float32")])), _numpy(theirs(x, x)), atol=1e-5
    )
