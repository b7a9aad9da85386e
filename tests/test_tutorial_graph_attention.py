"""The l11-graph-attention smoke run has the lecture 11 outputs: the table, the figures, the
attention.
"""

import json


def test_graph_attention_smoke_run_has_the_lecture_11_outputs(smoke_run):
    folder = smoke_run("l11-graph-attention")
    state = json.loads((folder / "run.json").read_text())
    table = state["tables"][
        "Node classification: accuracy on the unlabelled nodes (mean and std over draws)"
    ]
    assert {(r["model"], r["labels/class"]) for r in table} == {
        (m, k) for m in ("MLP (no edges)", "attention 1-hop", "attention 2-hop") for k in (1, 4)
    }
    assert all(
        0.0 <= r["accuracy mean"] <= 1.0 and r["accuracy std"] >= 0 and r["draws"] == 2
        for r in table
    )
    assert "karate-2-hop" in state["variants"]
    assert list(folder.glob("karate-2-hop/validation/events.out.tfevents.*"))
    for png in (
        "accuracy_vs_labels.png",
        "karate_predictions_2-hop.png",
        "karate_attention_of_node_33.png",
    ):
        assert (folder / png).exists(), png
    attention = state["tables"]["karate: attention 2-hop, largest attention weights of node 33"]
    assert len(state["verdicts"]) == 2
    assert {r["hop"] for r in attention} == {1, 2} and all(0 < r["weight"] <= 1 for r in attention)
