"""Content of the l11-image-attention smoke run: every model × fraction, the curves, the verdict,
the maps.
"""

import json

import events

MODELS = ("cnn", "cnn+self-attention", "attention")


def tags(folder):
    return {tag: [v for _, v in found] for tag, found in events.values(folder).items()}


def test_image_attention_smoke_run_has_the_lecture_11_outputs(smoke_run):
    folder = smoke_run("l11-image-attention")
    state = json.loads((folder / "run.json").read_text())
    counts = {row["model"]: row["parameters"] for row in state["tables"]["Parameters"]}
    assert set(counts) == set(MODELS) and max(counts.values()) <= 1.25 * min(counts.values())
    title = next(
        t
        for t in state["tables"]
        if t.startswith("Test accuracy (") and "model × training fraction" in t
    )
    rows = state["tables"][title]
    assert {(r["model"], r["fraction"]) for r in rows} == {
        (m, f) for m in MODELS for f in ("30%", "100%")
    }
    assert all(0 <= r["test accuracy"] <= 1 for r in rows)
    sizes = {r["fraction"]: r["train images"] for r in rows}
    assert sizes["30%"] < sizes["100%"]
    assert all((r["gate γ"] != "-") == (r["model"] == "cnn+self-attention") for r in rows)
    assert (folder / "accuracy_vs_fraction.png").exists()
    run_tags = tags(folder)
    (verdict_tag,) = [tag for tag in run_tags if tag.endswith("_verdict")]
    verdict = run_tags[verdict_tag][0].tensor.string_val[0].decode()
    assert "attention vs cnn" in verdict
    assert any(word in verdict for word in ("supported", "contradicted", "inconclusive"))
    assert len(state["verdicts"]) == 2
    # Attention maps of both attention models, and the SAGAN gate per epoch, in the variants'
    # folders.
    assert "attention/image_attention" in tags(
        folder / "cnn-self-attention-100pct-seed0" / "attention"
    )
    assert {"attention/encoder_1", "attention/encoder_2"} <= set(
        tags(folder / "attention-100pct-seed0" / "attention")
    )
    gate = tags(folder / "cnn-self-attention-30pct-seed0" / "train")
    assert len(gate["attention_gate/image_attention"]) >= 2  # before training (γ = 0) and after
