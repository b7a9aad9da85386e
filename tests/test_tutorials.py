"""Every tutorial runs in --quick mode through the CLI and leaves a complete, TensorBoard-readable run."""

import json

import pytest

from mlcourse import tutorials

ALL = tutorials.discover()


@pytest.mark.parametrize("tutorial", ALL, ids=[t.id for t in ALL])
def test_quick_mode_completes_with_events_and_a_summary(tutorial, quick_run):
    folder = quick_run(tutorial.id)
    state = json.loads((folder / "run.json").read_text())
    assert state["status"] == "complete" and state["options"]["quick"] is True
    assert list(folder.rglob("events.out.tfevents.*")), "nothing for TensorBoard"
    summary = (folder / "summary.md").read_text()
    assert summary.startswith(
        "Ran on: default strategy on CPU:0 (1 replica); 1 replica(s) in sync"
    ), summary[:200]
    assert "\n## " in summary, "no summary table"


def test_tutorials_are_short_and_use_the_public_api():
    for tutorial in ALL:
        source = tutorial.path.read_text()
        assert len(source.splitlines()) <= 230, (
            f"{tutorial.path.name} is too long to read top to bottom"
        )
        assert "mlcourse._" not in source and "from tests" not in source
        assert "runner.Run(" in source and 'if __name__ == "__main__":' in source


def test_regression_quick_run_has_the_lecture_2_outputs(quick_run):
    folder = quick_run("l02-regression")
    state = json.loads((folder / "run.json").read_text())
    assert {"linear-k1-seed0", "linear-k1-seed1", "linear-k7-seed1"} <= set(
        state["variants"]
    )  # 2 seeds each
    assert list(folder.glob("linear-k1-seed0/train/events.out.tfevents.*"))
    assert (folder / "predictions.png").exists()
    table = state["tables"]["Lecture 2 on hyndsight: MAE in page views"]
    names = [row["model"] for row in table]
    assert "same day last week" in names and "yesterday" in names
    assert all(row["updates/epoch"] == 7 for row in table if row["updates/epoch"] != "-")
    for row in table[
        :-2
    ]:  # a configuration's average is no worse than its seeds' mean (|.| is convex)
        low, high = map(float, row["test MAE, single seeds"].split("-"))
        assert row["test MAE"] <= (low + high) / 2 + 0.051  # the range is printed to 0.1
    best = state["results"]["best_model"]
    assert (
        best["seeds"] == 2
        and best["model"] == min(table[:-2], key=lambda row: row["val MAE"])["model"]
    )
