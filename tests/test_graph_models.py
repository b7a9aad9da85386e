"""Node classifiers on a graph (mlcourse.models.graph, ML2021 L11): receptive field, arrays,
training.
"""

import keras
import numpy as np
import pytest

from mlcourse.data import graphs
from mlcourse.models import graph as gm

KARATE = graphs.karate_club()


def _model(kind="attention", **options):
    return gm.node_classifier(
        kind, KARATE.nodes, KARATE.features.shape[1], KARATE.classes, units=8, **options
    )


def _outputs(model, features):
    return keras.ops.convert_to_numpy(model([features[None], KARATE.adjacency[None]]))[0]


@pytest.mark.parametrize("options", [{"kind": "mlp"}, {"hops": 1}, {"hops": 3, "layers": 2}])
def test_classifier_gives_class_probabilities_for_every_node(options):
    out = _outputs(_model(**options), KARATE.features)
    assert out.shape == (34, 2)
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)


def test_bad_kind_is_rejected():
    with pytest.raises(ValueError, match="kind must be one of"):
        _model("gcn")


def _distance_two_pair():
    distance = np.linalg.matrix_power(KARATE.adjacency + np.eye(34), 2) > 0
    i = 16  # a leaf-ish node; find a node exactly two hops away
    j = int(np.flatnonzero(distance[i] & (KARATE.adjacency[i] == 0) & (np.arange(34) != i))[0])
    return i, j


@pytest.mark.parametrize(
    "options, sees",
    [
        ({"kind": "mlp"}, False),
        ({"hops": 1}, False),
        ({"hops": 2}, True),
        ({"hops": 1, "layers": 2}, True),
    ],
)
def test_receptive_field_is_the_hops_times_the_layers(options, sees):
    i, j = _distance_two_pair()
    model = _model(**options)
    changed = KARATE.features.copy()
    changed[j] = np.random.default_rng(0).normal(size=34)
    moved = np.abs(_outputs(model, changed)[i] - _outputs(model, KARATE.features)[i]).max()
    assert (moved > 1e-6) == sees, moved


def test_mlp_ignores_the_edges():
    model = _model("mlp")
    out = keras.ops.convert_to_numpy(
        model([KARATE.features[None], np.zeros((1, 34, 34), "float32")])
    )[0]
    np.testing.assert_allclose(out, _outputs(model, KARATE.features), atol=1e-6)


def test_node_arrays_weight_only_the_given_nodes():
    (features, adjacency), targets, weights = gm.node_arrays(KARATE, [0, 33], repeat=3)
    assert (
        features.shape == (3, 34, 34)
        and adjacency.shape == (3, 34, 34)
        and targets.shape == (3, 34)
    )
    assert np.flatnonzero(weights[2]).tolist() == [0, 33]
    np.testing.assert_array_equal(targets[0], KARATE.labels)
    women = graphs.southern_women()
    _, targets, weights = gm.node_arrays(women)
    assert weights.sum() == 17 and targets.min() == 0
    with pytest.raises(ValueError, match="label"):
        gm.node_arrays(women, [8])  # Ruth has no label


def test_node_accuracy():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert gm.node_accuracy(probabilities, [0, 1, 1], [0, 1, 2]) == pytest.approx(2 / 3)
    assert gm.node_accuracy(probabilities, [0, 1, 1], [0, 1]) == 1.0


def test_attention_weights_follow_the_hop_rings():
    model = _model(hops=2)
    weights = gm.attention_weights(model, KARATE)
    assert weights.shape == (2, 34, 34)
    ring1 = (KARATE.adjacency + np.eye(34)) > 0
    np.testing.assert_allclose(weights[0].sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[0][~ring1] == 0) and np.all(weights[1][ring1] == 0)


def _build(kind="attention"):
    model = _model(kind)
    model.compile(keras.optimizers.Adam(0.03), "sparse_categorical_crossentropy")
    return model


def test_evaluate_over_draws_resets_the_reused_model_between_draws():
    built = []
    rows = gm.evaluate_over_draws(
        lambda: built.append(_build()) or built[-1], KARATE, [2], draws=2, seed=3, steps=20
    )
    assert (
        [r["per_class"] for r in rows] == [2]
        and len(rows[0]["accuracies"]) == 2
        and len(built) == 2
    )
    assert rows[0]["mean"] == pytest.approx(np.mean(rows[0]["accuracies"]))
    # the reused (first) model ends in the state of the last draw: the same as a fresh model trained
    # on it
    train = graphs.labelled_draws(KARATE.labels, 2, 2, seed=3)[1]
    keras.utils.set_random_seed(3 * 1000 + 1)
    fresh = _build()
    x, y, w = gm.node_arrays(KARATE, train, repeat=20)
    fresh.fit(x, y, sample_weight=w, batch_size=1, epochs=1, verbose=0)
    np.testing.assert_allclose(
        gm.predict_nodes(built[0], KARATE), gm.predict_nodes(fresh, KARATE), atol=1e-5
    )
    test = np.setdiff1d(KARATE.labelled, train)
    assert (
        gm.node_accuracy(gm.predict_nodes(fresh, KARATE), KARATE.labels, test)
        == rows[0]["accuracies"][1]
    )


def test_edges_carry_the_labels_the_identity_features_cannot():
    (attention,) = gm.evaluate_over_draws(_build, KARATE, [4], draws=1, steps=60)
    (mlp,) = gm.evaluate_over_draws(lambda: _build("mlp"), KARATE, [4], draws=1, steps=60)
    assert attention["mean"] > 0.8 and attention["mean"] > mlp["mean"] + 0.2, (attention, mlp)
