"""The labelled graphs of ML2021 L11 (mlcourse.data.graphs): the right graphs, labels and draws."""

import networkx as nx
import numpy as np
import pytest

from mlcourse.data import graphs


def test_karate_club_is_zacharys_graph_with_the_two_factions():
    g = graphs.karate_club()
    assert g.nodes == 34 and g.adjacency.sum() == 2 * 78
    np.testing.assert_array_equal(g.adjacency, g.adjacency.T)
    assert np.all(np.diag(g.adjacency) == 0)
    np.testing.assert_array_equal(g.features, np.eye(34))
    assert np.bincount(g.labels).tolist() == [17, 17]
    assert g.class_names[g.labels[0]] == "Mr. Hi" and g.class_names[g.labels[33]] == "Officer"
    assert nx.is_isomorphic(g.to_networkx(), nx.karate_club_graph())


def test_southern_women_labels_follow_the_ethnographers_cliques():
    g = graphs.southern_women()
    assert g.nodes == 32 and g.adjacency.sum() == 2 * 89
    women = list(range(18))
    assert g.adjacency[np.ix_(women, women)].sum() == 0  # bipartite: women meet through events only
    assert g.labels[:8].tolist() == [0] * 8 and g.labels[9:18].tolist() == [1] * 9
    assert g.node_names[8] == "Ruth DeSand" and g.labels[8] == -1  # "in both" cliques: no label
    assert np.all(g.labels[18:] == -1) and g.node_names[18] == "E1"
    assert g.labelled.tolist() == [i for i in range(18) if i != 8]


def test_load_by_name_and_bad_names():
    assert graphs.load("karate").name == "karate"
    with pytest.raises(ValueError, match="name must be one of"):
        graphs.load("cora")


def test_labelled_draws_are_seeded_balanced_and_skip_unlabelled_nodes():
    labels = graphs.southern_women().labels
    draws = graphs.labelled_draws(labels, 3, 5, seed=7)
    assert len(draws) == 5
    for train in draws:
        assert np.bincount(labels[train]).tolist() == [3, 3]
        assert len(set(train.tolist())) == 6
    assert len({tuple(t) for t in draws}) > 1  # different draws
    again = graphs.labelled_draws(labels, 3, 5, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(draws, again, strict=True))
    other = graphs.labelled_draws(labels, 3, 5, seed=8)
    assert not all(np.array_equal(a, b) for a, b in zip(draws, other, strict=True))


def test_labelled_draws_reject_impossible_requests():
    labels = graphs.southern_women().labels
    with pytest.raises(ValueError, match="per_class"):
        graphs.labelled_draws(labels, 8, 1)  # clique 1 has 8 women: none left to score
    with pytest.raises(ValueError, match="per_class"):
        graphs.labelled_draws(labels, 0, 1)
