"""Small real graphs with node labels, as arrays, for node classification (ML2021 L11,
self-attention for graphs).

Both graphs ship with networkx (no download, nothing to checksum):

* ``karate_club()`` — Zachary's karate club (Zachary 1977): 34 members, 78 friendships outside the
  club; the label is the faction each member joined when the club split (networkx's ``club``
  attribute: ``Mr. Hi`` / ``Officer``, 17 each).
* ``southern_women()`` — Davis, Gardner & Gardner's "Southern women" (Deep South, 1941): 18 women,
  14 social events, an edge when a woman attended an event (bipartite, 32 nodes, 89 edges). The
  labels are the ethnographers' own two cliques of women from the book (as tabulated in the R
  package classicnets, ``data-raw/davis_gardners.R``): women 1–8 (Evelyn … Pearl) in clique 1,
  women 10–18 (Verne … Flora) in clique 2. Ruth DeSand, placed "in both" by the authors, and the
  14 events have no label (``-1``): they are in the graph but are never trained on nor scored.
  Women talk to women only through events, so another woman is two hops away.

Node features are the identity (one one-hot vector per node, as Kipf & Welling 2017 did for the
karate club): a node's features say who it is and nothing else, so whatever a model predicts for
an unlabelled node it has to learn through the edges.
"""

from dataclasses import dataclass

import networkx as nx
import numpy as np

__all__ = ["GRAPHS", "NodeGraph", "karate_club", "labelled_draws", "load", "southern_women"]


@dataclass(frozen=True)
class NodeGraph:
    """A graph for node classification.

    Attributes:
        name: short name (``"karate"``, ``"southern-women"``).
        adjacency: ``(N, N)`` float32, symmetric, 0/1, zero diagonal.
        features: ``(N, F)`` float32 node features (here the identity, ``F = N``).
        labels: ``(N,)`` int, the class of each node, ``-1`` where there is none.
        class_names: the name of each class.
        node_names: the name of each node (networkx's node keys, as strings).
    """

    name: str
    adjacency: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    class_names: tuple
    node_names: tuple

    @property
    def nodes(self):
        return len(self.labels)

    @property
    def classes(self):
        return len(self.class_names)

    @property
    def labelled(self):
        """Indices of the nodes that have a label."""
        return np.flatnonzero(self.labels >= 0)

    def to_networkx(self):
        """The graph as ``networkx.Graph`` with nodes ``0 … N−1`` (for drawing)."""
        return nx.from_numpy_array(self.adjacency)


def _from_networkx(name, graph, labels, class_names):
    nodes = list(graph.nodes)
    adjacency = (nx.to_numpy_array(graph, nodelist=nodes, weight=None) > 0).astype("float32")
    np.fill_diagonal(adjacency, 0.0)
    return NodeGraph(
        name,
        adjacency,
        np.eye(len(nodes), dtype="float32"),
        np.asarray(labels, dtype="int64"),
        tuple(class_names),
        tuple(str(n) for n in nodes),
    )


def karate_club():
    """Zachary's karate club: 34 nodes, 78 edges, 2 classes (the ``club`` attribute)."""
    graph = nx.karate_club_graph()
    class_names = ("Mr. Hi", "Officer")
    labels = [class_names.index(graph.nodes[n]["club"]) for n in graph.nodes]
    return _from_networkx("karate", graph, labels, class_names)


#: Davis, Gardner & Gardner's cliques of the 18 women, in networkx's order of the women (1 and 2;
#: 0 = "in both", left unlabelled).
SOUTHERN_WOMEN_CLIQUES = (1, 1, 1, 1, 1, 1, 1, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2)


def southern_women():
    """Davis's southern women: 18 women + 14 events, 89 edges; the women's cliques as labels."""
    graph = nx.davis_southern_women_graph()
    women = graph.graph["top"]
    assert len(women) == len(SOUTHERN_WOMEN_CLIQUES) and list(graph.nodes)[: len(women)] == women
    labels = [clique - 1 for clique in SOUTHERN_WOMEN_CLIQUES] + [-1] * (
        graph.number_of_nodes() - len(women)
    )
    return _from_networkx("southern-women", graph, labels, ("clique 1", "clique 2"))


GRAPHS = {"karate": karate_club, "southern-women": southern_women}


def load(name):
    """One of ``GRAPHS`` by name."""
    if name not in GRAPHS:
        raise ValueError(f"name must be one of {sorted(GRAPHS)}, got {name!r}")
    return GRAPHS[name]()


def labelled_draws(labels, per_class, draws, seed=0):
    """Seeded random training sets with ``per_class`` labelled nodes of each class.

    Args:
        labels: ``(N,)`` ints, ``-1`` for nodes without a label (never drawn).
        per_class: how many nodes of each class to label.
        draws: how many training sets.
        seed: the draws depend only on ``seed``, ``per_class`` and the labels.

    Returns:
        a list of ``draws`` sorted index arrays, each with ``per_class × classes`` nodes.
    """
    labels = np.asarray(labels)
    classes = sorted(set(labels[labels >= 0].tolist()))
    for c in classes:
        if np.sum(labels == c) <= per_class:
            raise ValueError(
                f"per_class must leave unlabelled nodes of every class: class {c} has "
                f"{int(np.sum(labels == c))} nodes, per_class={per_class}"
            )
    if per_class < 1 or draws < 1:
        raise ValueError(f"per_class and draws must be positive, got {per_class}, {draws}")
    rng = np.random.default_rng([seed, per_class])
    return [
        np.sort(
            np.concatenate(
                [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in classes]
            )
        )
        for _ in range(draws)
    ]
