"""Smoke mode of the lecture-3 and lecture-7 tutorials: they run, log, and (L07) show the lecture's
point.
"""

import json

import pytest

from mlcourse.analysis.diagnosis import BRANCHES


def _run_smoke(tutorial_id, smoke_run):
    folder = smoke_run(tutorial_id)
    return folder, json.loads((folder / "run.json").read_text())


def _table(state, prefix):
    (rows,) = [rows for title, rows in state["tables"].items() if title.startswith(prefix)]
    return rows


@pytest.mark.slow
def test_l07_smoke_cross_entropy_escapes_and_mse_stalls(smoke_run):
    folder, state = _run_smoke("l07-classification-loss", smoke_run)
    assert state["status"] == "complete"
    rows = {row["loss"]: row for row in _table(state, "From a bad start")}
    assert isinstance(rows["cross-entropy"]["updates to 90%"], int)
    assert rows["mse"]["updates to 90%"].startswith("> ")
    assert rows["cross-entropy"]["final accuracy"] > 0.9 > rows["mse"]["final accuracy"]
    for name in ("loss_surfaces", "surfaces_with_paths", "curves"):
        assert (folder / f"{name}.png").exists()
    for variant in ("cross-entropy", "mse"):
        path = json.loads((folder / f"{variant}-seed0" / "trajectory.json").read_text())
        assert len(path["history"]) == 1 + rows[variant]["updates"]
        assert list((folder / f"{variant}-seed0" / "train").glob("events.out.tfevents.*"))
    assert [v["claim"].split(",")[0] for v in state["verdicts"]][1] == (
        "Cross-entropy trains from the bad start where MSE stalls"
    )


@pytest.mark.slow
def test_l03_smoke_runs_every_branch_and_logs_the_hparams_experiment(smoke_run):
    folder, state = _run_smoke("l03-training-strategy", smoke_run)
    assert state["status"] == "complete"
    for prefix in ("1. Model bias", "2. Optimization", "3. Overfitting", "4. ", "5. Mismatch"):
        assert _table(state, prefix)
    diagnoses = _table(state, "The flow chart")
    assert [row["section"] for row in diagnoses] == [
        "model bias",
        "optimization",
        "overfitting",
        "mismatch",
    ]
    assert all(row["diagnosis"] in BRANCHES and row["why"] for row in diagnoses)
    remedies = _table(state, "3. Overfitting")
    for row in remedies:
        assert row["gap"] == pytest.approx(row["val_loss"] - row["train_loss"])
    for remedy in ("baseline", "augmentation", "early-stopping"):
        assert list((folder / f"{remedy}-seed0").glob("events.out.tfevents.*")), (
            f"no HParams trial for {remedy}"
        )
    assert len(state["verdicts"]) == 6
    assert (folder / "curves.png").exists()
    assert (folder / "mlp-1x64-fold2").is_dir()
