"""Content of the lecture 12 tutorials' smoke runs: the tables and the TensorBoard images they
promise.
"""

import json


def test_transformer_smoke_run_has_lemma_results_maps_and_the_causal_check(smoke_run):
    folder = smoke_run("l12-transformer")
    state = json.loads((folder / "run.json").read_text())
    assert set(state["variants"]) == {"transformer-seed0"}
    (title,) = [t for t in state["tables"] if t.startswith("Word -> lemma: exact match")]
    rows = {row["method"]: row for row in state["tables"][title]}
    assert list(rows) == [
        "copy the word",
        "strip the longest known suffix",
        "most frequent rule of the longest known ending",
        "Transformer, greedy decoding",
    ]
    assert all(0.0 <= row["exact match"] <= 1.0 for row in rows.values())
    assert rows["copy the word"]["words whose lemma differs"] == 0.0  # copying is never right there
    assert rows["copy the word"]["exact match"] > 0.2  # many Turkish word types are their own lemma
    assert rows["Transformer, greedy decoding"]["parameters"] > 0
    causal = state["tables"][
        "Masked self-attention: a future target letter does not change earlier outputs"
    ]
    assert all(
        row["max output change before k"] < 1e-5 < row["max output change from k on"]
        for row in causal
    )
    examples = state["tables"]["Examples: unseen words, gold lemma and predictions"]
    assert examples and {"word", "gold lemma", "transformer", "ending rules"} <= set(examples[0])
    assert list(folder.glob("transformer-seed0/cross_attention/events.out.tfevents.*")), (
        "no cross-attention images"
    )
    assert list(folder.glob("transformer-seed0/train/events.out.tfevents.*"))
    assert len(state["verdicts"]) == 2


def test_conformer_tagging_smoke_run_compares_the_taggers(smoke_run):
    folder = smoke_run("l12-conformer-tagging")
    state = json.loads((folder / "run.json").read_text())
    assert set(state["variants"]) == {"window2-seed0", "transformer-seed0", "conformer-seed0"}
    (title,) = [t for t in state["tables"] if t.startswith("Turkish web treebank")]
    rows = state["tables"][title]
    assert [row["tagger"] for row in rows] == [
        "most frequent tag (baseline)",
        "window:2",
        "transformer",
        "conformer",
    ]
    assert 0.5 < rows[0]["token accuracy"] < 1.0
    assert all(
        0.0 <= row["token accuracy"] <= 1.0 and row["parameters"] > 0 and row["train s"] > 0
        for row in rows[1:]
    )
    params = {row["tagger"]: row["parameters"] for row in rows[1:]}
    assert params["conformer"] > params["transformer"] > params["window:2"]
    assert list(folder.glob("transformer-seed0/attention/events.out.tfevents.*")), (
        "no attention maps"
    )
    assert len(state["verdicts"]) == 1
