"""Node classification on one graph: an MLP that ignores the edges, and graph self-attention.

ML2021 L11, self-attention for graphs: the adjacency matrix is the attention mask, and with the
student's multi-hop idea each hop distance gets its own head (``mlcourse.layers.GraphSelfAttention``
with ``hops > 1``). The whole graph is one example: inputs
``[features (1, N, F), adjacency (1, N, N)]``, targets ``(1, N)``, and a per-node sample weight that
is 1 on the labelled training nodes and 0 elsewhere (semi-supervised: the loss sees only the few
labelled nodes, the model sees all nodes).
"""

import keras
import numpy as np

from mlcourse.data.graphs import labelled_draws
from mlcourse.layers import GraphSelfAttention
from mlcourse.models.restart import restart

__all__ = [
    "KINDS",
    "attention_weights",
    "evaluate_over_draws",
    "node_accuracy",
    "node_arrays",
    "node_classifier",
    "predict_nodes",
]

KINDS = ("mlp", "attention")


def node_classifier(
    kind, nodes, features, classes, units=16, hops=1, layers=1, separate_heads=True, dropout=0.0
):
    """A Keras model from ``[features, adjacency]`` to class probabilities for every node.

    Args:
        kind: ``"mlp"`` (features only: ``layers`` Dense+ReLU, the adjacency input is ignored) or
            ``"attention"`` (``layers`` × ``GraphSelfAttention(units, hops)`` + ReLU).
        nodes, features, classes: ``N``, ``F`` and the number of classes.
        units: width of the hidden layers.
        hops: for ``"attention"``: how many hop distances each layer sees (1 = plain graph
            attention, >1 = the student's multi-hop heads).
        layers: how many hidden layers.
        separate_heads: for ``"attention"``: one head per hop (True) or shared projections with
            a learned weight per hop (False).
        dropout: dropout on the input features.

    Returns:
        an uncompiled ``keras.Model``; the attention layers are named ``graph_attention_1`` … .
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    features_in = keras.Input((nodes, features), name="features")
    adjacency_in = keras.Input((nodes, nodes), name="adjacency")
    x = keras.layers.Dropout(dropout)(features_in) if dropout else features_in
    for layer in range(1, layers + 1):
        if kind == "mlp":
            x = keras.layers.Dense(units, activation="relu", name=f"dense_{layer}")(x)
        else:
            x = GraphSelfAttention(
                units, hops=hops, separate_heads=separate_heads, name=f"graph_attention_{layer}"
            )([x, adjacency_in])
            x = keras.layers.Activation("relu")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="classes")(x)
    name = "mlp" if kind == "mlp" else f"attention_{hops}hop"
    return keras.Model([features_in, adjacency_in], outputs, name=name)


def node_arrays(graph, nodes=None, repeat=1):
    """``(inputs, targets, weights)`` for ``model.fit`` / ``evaluate``: the graph as one example.

    Args:
        graph: a ``mlcourse.data.graphs.NodeGraph``.
        nodes: the nodes whose loss counts (weight 1); default every labelled node.
        repeat: copies of the example (``fit(..., batch_size=1)`` then makes ``repeat`` updates an
            epoch, which is far quicker than ``repeat`` one-update epochs).

    Returns:
        ``([features (R, N, F), adjacency (R, N, N)], targets (R, N), weights (R, N))``; nodes
        without a label get target 0 and weight 0.
    """
    nodes = graph.labelled if nodes is None else np.asarray(nodes)
    if np.any(graph.labels[nodes] < 0):
        raise ValueError("nodes must all have a label (labels >= 0)")
    weights = np.zeros(graph.nodes, "float32")
    weights[nodes] = 1.0
    targets = np.maximum(graph.labels, 0)
    tile = lambda a: np.repeat(a[None], repeat, axis=0)  # noqa: E731
    return [tile(graph.features), tile(graph.adjacency)], tile(targets), tile(weights)


def predict_nodes(model, graph):
    """Class probabilities ``(N, classes)`` for every node."""
    inputs, _, _ = node_arrays(graph)
    return keras.ops.convert_to_numpy(model(inputs, training=False))[0]


def node_accuracy(probabilities, labels, nodes):
    """Accuracy of ``argmax probabilities`` on ``nodes``."""
    nodes = np.asarray(nodes)
    return float(np.mean(np.argmax(probabilities[nodes], axis=-1) == np.asarray(labels)[nodes]))


def attention_weights(model, graph, layer=1):
    """The attention weights of the ``layer``-th graph attention layer: ``(hops, N, N)``.

    Row ``i`` of hop ``k`` is how much node ``i`` attends to each node at distance ``k``.
    """
    attention = model.get_layer(f"graph_attention_{layer}")
    features_before = keras.Model(model.inputs, attention.input[0])
    inputs, _, _ = node_arrays(graph)
    _, weights = attention([features_before(inputs), inputs[1]], return_attention_scores=True)
    return keras.ops.convert_to_numpy(weights)[0]


def evaluate_over_draws(build, graph, per_class, draws, seed=0, steps=200):
    """Train a model for each seeded draw of labelled nodes; accuracy on the labelled nodes not
    drawn.

    Args:
        build: ``build()`` returns a compiled model. It is called once per draw after seeding Keras
            with ``seed`` and the draw (so every kind starts draw ``d`` from the same weights); the
            first model is the one trained every time, with the new model's initial weights and
            its optimizer's initial state, so its training step is traced only once.
        graph: a ``NodeGraph``.
        per_class: a list of how many labelled nodes per class to try.
        draws: how many training sets for each (``mlcourse.data.graphs.labelled_draws``).
        seed: seeds the draws and the initial weights.
        steps: full-graph updates per model.

    Returns:
        one row per ``per_class``: ``{"per_class", "mean", "std", "accuracies"}`` (accuracy over the
        draws; each accuracy is on the labelled nodes outside that draw's training set).
    """
    rows, model = [], None
    for count in per_class:
        accuracies = []
        for draw, train in enumerate(labelled_draws(graph.labels, count, draws, seed)):
            keras.utils.set_random_seed(seed * 1000 + draw)
            fresh = build()
            model = fresh if model is None else restart(model, fresh)  # keeps the traced step
            x, y, w = node_arrays(graph, train, repeat=steps)
            model.fit(x, y, sample_weight=w, batch_size=1, epochs=1, verbose=0)
            test = np.setdiff1d(graph.labelled, train)
            accuracies.append(node_accuracy(predict_nodes(model, graph), graph.labels, test))
        rows.append(
            {
                "per_class": count,
                "mean": float(np.mean(accuracies)),
                "std": float(np.std(accuracies)),
                "accuracies": accuracies,
            }
        )
    return rows
