"""The lecture 10-11 taggers and the attention-map / projector callbacks."""

import glob

import keras
import numpy as np
import pytest

from mlcourse import verdicts
from mlcourse.callbacks.attention_maps import AttentionMaps, attention_weights
from mlcourse.callbacks.embedding_projector import EmbeddingProjector
from mlcourse.data.sequence_labeling import cue_task
from mlcourse.models.taggers import KINDS, accuracy_by_distance, tagger, token_accuracy

DATA = cue_task(64, max_length=12, seed=0)


def _model(kind, **options):
    return tagger(kind, len(DATA.vocabulary), len(DATA.tags), 12, units=8, num_heads=2, **options)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_gives_tag_probabilities(kind):
    out = keras.ops.convert_to_numpy(_model(kind)(DATA.x[:3]))
    assert out.shape == (3, 12, len(DATA.tags))
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)


def test_per_token_tagger_ignores_the_context():
    model = _model("per_token")
    changed = DATA.x.copy()
    changed[:, 1:] = np.roll(
        changed[:, 1:], 1, axis=0
    )  # every token but the first from another sentence
    a, b = (keras.ops.convert_to_numpy(model(x))[:, 0] for x in (DATA.x, changed))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_one_hot_embedding_is_a_fixed_identity():
    model = _model("per_token", embedding="one_hot")
    table = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    np.testing.assert_array_equal(table, np.eye(len(DATA.vocabulary)))
    assert not model.get_layer("embedding").trainable


def test_bad_tagger_arguments():
    with pytest.raises(ValueError, match="kind"):
        _model("cnn")
    with pytest.raises(ValueError, match="embedding"):
        _model("per_token", embedding="random")


def test_accuracy_helpers_count_only_real_tokens():
    perfect = DATA.y.copy()
    perfect[~DATA.mask] = 99  # predictions on padding do not count
    assert token_accuracy(perfect, DATA) == 1.0
    wrong = np.where(DATA.distance >= 3, 0, DATA.y)
    rows = accuracy_by_distance(wrong, DATA, [1, 3, 13])
    assert [r[1] for r in rows] == [1.0, 0.0] and rows[1][2] == int(
        ((DATA.distance >= 3) & DATA.mask).sum()
    )


def test_attention_maps_and_projector_are_written(tmp_path):
    model = _model("multi_head")
    model.compile("adam", "sparse_categorical_crossentropy")
    sentences = [DATA.words(n) for n in range(2)]
    maps = AttentionMaps(tmp_path, "attention", DATA.x[:2], sentences, mask=DATA.mask[:2], every=2)
    projector = EmbeddingProjector(tmp_path, DATA.vocabulary.tokens)
    model.fit(
        DATA.x, DATA.y, sample_weight=DATA.mask, epochs=1, verbose=0, callbacks=[maps, projector]
    )
    assert glob.glob(str(tmp_path / "attention" / "events.out.tfevents.*")), (
        "no attention images written"
    )
    weights = attention_weights(model, "attention", DATA.x[:2], DATA.mask[:2])
    assert weights.shape == (2, 2, 12, 12)
    assert np.all(weights[0][..., ~DATA.mask[0]] == 0.0)  # padding gets no attention
    labels = (tmp_path / "projector" / "embedding.tsv").read_text().splitlines()
    assert labels == DATA.vocabulary.tokens[1:]
    config = (tmp_path / "projector" / "projector_config.pbtxt").read_text()
    assert 'metadata_path: "embedding.tsv"' in config
    assert list((tmp_path / "projector").glob("embedding.ckpt-1.index"))
    assert glob.glob(str(tmp_path / "projector" / "events.out.tfevents.*")), "not a TensorBoard run"


def test_tutorial_smoke_mode(smoke_run):
    """Smoke mode end to end (needs the WSJ file from `mlcourse data prepare --download`)."""
    import json

    run_dir = smoke_run("l10-self-attention")
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    collapse = state["tables"]["Multi-head: two-stage projections vs one matrix per head"]
    assert float(collapse[2]["projection parameters"]) < 1e-4
    assert collapse[0]["projection parameters"] > collapse[1]["projection parameters"]
    synthetic = state["tables"]["Synthetic cue task: held-out accuracy"]
    assert [r["tagger"] for r in synthetic] == ["window:1", "self_attention", "per_token"]
    assert all(0.0 <= r["token accuracy"] <= 1.0 and r["train s"] > 0 for r in synthetic)
    (wsj,) = [rows for title, rows in state["tables"].items() if title.startswith("wsj")]
    assert 0.5 < wsj[0]["token accuracy"] < 1.0  # the most-frequent-tag baseline
    assert list(run_dir.glob("cue-self_attention-seed0/attention/events.out.tfevents.*"))
    assert (run_dir / "cue-self_attention-seed0" / "projector" / "projector_config.pbtxt").exists()
    saw = state["tables"]['"I saw a saw ." tagged by the WSJ taggers (gold: PRP VBD DT NN .)']
    assert {row["tagger"] for row in saw} == {
        "per_token",
        "window:2",
        "multi_head",
        "distance_decay",
    }
    claims = [v["claim"] for v in state["verdicts"]]
    assert len(claims) == 7 and any(
        c.startswith("The notes' idea: scores that fade") for c in claims
    )
    assert all(v["verdict"] == "not judged (smoke run)" for v in state["verdicts"])
    assert (run_dir / "synthetic_accuracy_by_distance.png").exists()


class _Verdicts:
    """Stands in for ``runner.Run``: keeps what ``verdict`` was given."""

    def __init__(self):
        self.given = []

    def verdict(self, claim, measured, outcome, seeds=1, reason=""):
        self.given.append((claim, measured, verdicts.outcome_of(outcome), seeds))


def _judged(ambiguous):
    """What l10's ``judge_wsj`` says, over 3 seeds, about these accuracies: (claim, measured,
    outcome, seeds) per verdict."""
    from types import SimpleNamespace

    from mlcourse import tutorials

    tutorial = next(t for t in tutorials.discover() if t.id == "l10-self-attention")
    run = _Verdicts()
    tutorials.load_module(tutorial).judge_wsj(run, SimpleNamespace(seeds=3), ambiguous)
    return run.given


def test_wsj_verdicts_judge_the_decay_against_plain_attention_and_the_per_token_tagger():
    per_token = [0.89, 0.90, 0.88]
    given = _judged(
        {
            "per_token": per_token,
            "window:2": [0.93, 0.94, 0.92],
            "multi_head": [0.895, 0.895, 0.89],
            "distance_decay": [0.915, 0.92, 0.905],
        }
    )
    assert [(g[0][:30], g[2], g[3]) for g in given] == [
        ("On real text, a ±2 window (met", "holds", 3),
        ("On real text, self-attention (", "holds", 3),
        ("The notes' idea: scores that f", "holds", 3),
    ]
    assert "without the decay (multi_head) 0.893" in given[1][1]  # the plain layer is shown
    # the decay no better than without it: the notes' verdict says so
    given = _judged(
        {
            "per_token": per_token,
            "multi_head": [0.91, 0.92, 0.9],
            "distance_decay": [0.9, 0.93, 0.89],
        }
    )
    assert [g[2] for g in given] == ["holds", "inconclusive"]
    # without per_token (--real window:2,multi_head) only what can be compared
    assert _judged({"window:2": [0.9] * 3, "multi_head": [0.9] * 3}) == []
    # --real per_token,multi_head: method 3 is the plain layer
    given = _judged({"per_token": per_token, "multi_head": [0.91, 0.92, 0.9]})
    assert len(given) == 1 and "self-attention (multi_head) 0.91" in given[0][1]
    # --real per_token,distance_decay: no plain layer to show or compare
    given = _judged({"per_token": per_token, "distance_decay": [0.91, 0.92, 0.9]})
    assert len(given) == 1 and "without the decay" not in given[0][1]
