"""Every tutorial runs in --smoke mode through the CLI and leaves a complete, labelled run: the
smoke banner first in every output, its verdicts recorded and not judged, TensorBoard events."""

import json

import pytest

from mlcourse import options, tutorials
from mlcourse.verdicts import NOT_JUDGED

import events

ALL = tutorials.discover()


def _texts(folder):
    """Every TensorBoard text summary directly in ``folder``: {tag: text}."""
    return events.texts(folder)


@pytest.mark.parametrize("tutorial", ALL, ids=[t.id for t in ALL])
def test_smoke_run_completes_says_so_everywhere_and_records_its_verdicts(tutorial, smoke_run):
    folder = smoke_run(tutorial.id)
    text = (folder / "run.json").read_text()
    state = json.loads(text)
    assert state["status"] == "complete" and state["mode"] == "smoke"
    assert next(iter(state)) == "note" and state["note"] == options.SMOKE_BANNER  # first key
    assert list(folder.rglob("events.out.tfevents.*")), "nothing for TensorBoard"
    summary = (folder / "summary.md").read_text().splitlines()
    assert summary[0] == options.SMOKE_BANNER
    assert summary[2].startswith("ran on default strategy on CPU:0 (1 replica)"), summary[:3]
    assert "## The lecture's claims, judged by this run" in summary
    assert state["verdicts"], "a tutorial judges at least one of the lecture's claims"
    for verdict in state["verdicts"]:
        assert verdict["verdict"] == NOT_JUDGED and verdict["mode"] == "smoke"
        assert verdict["tutorial"] == tutorial.id and verdict["claim"] and verdict["measured"]
        assert verdict["lecture"] == tutorial.lecture and verdict["seeds"] >= 1
    texts = _texts(folder)
    assert f"{tutorial.id}/00_verdicts" in texts
    assert all(body.startswith(f"**{options.SMOKE_BANNER}**") for body in texts.values())


def test_every_tutorial_declares_its_options_and_uses_the_public_api():
    for tutorial in ALL:
        source = tutorial.path.read_text()
        assert "mlcourse._" not in source and "from tests" not in source
        assert "runner.Run(" in source and 'if __name__ == "__main__":' in source
        assert "runner.script(\n        main, TUTORIAL, OPTIONS, __doc__, mode=mode," in source
        assert ".state[" not in source and "args.quick" not in source and "parse_args" not in source
        for name, spec in tutorial.options.items():  # a value for every mode, each one valid
            assert [options.resolve(spec, mode) for mode in options.MODES], name


def test_smoke_presets_never_override_a_flag_the_user_gave():
    tutorial = next(t for t in ALL if t.id == "l05-batch-momentum")
    config = tutorial.parse(["--smoke", "--epochs", "4", "--train-size", "3000"])
    assert (config.epochs, config.train_size, config.mode) == (4, 3000, "smoke")
    assert config.given == {"epochs", "train_size"}
    assert tutorial.parse(["--smoke"]).epochs == tutorial.options["epochs"]["smoke"]
    assert tutorial.parse([]).epochs == tutorial.options["epochs"]["lecture"]
    assert tutorial.parse(["--full"]).epochs == tutorial.options["epochs"]["full"]


def test_regression_smoke_run_has_the_lecture_2_outputs(smoke_run):
    folder = smoke_run("l02-regression")
    state = json.loads((folder / "run.json").read_text())
    assert {"linear-k1-seed0", "linear-k1-seed1", "linear-k7-seed1"} <= set(state["variants"])
    assert list(folder.glob("linear-k1-seed0/train/events.out.tfevents.*"))
    assert (folder / "predictions.png").exists()
    table = state["tables"]["Lecture 2 on hyndsight: MAE in page views"]
    names = [row["model"] for row in table]
    assert "same day last week" in names and "yesterday" in names
    assert all(row["updates/epoch"] == 7 for row in table if row["updates/epoch"] != "-")
    for row in table[:-2]:  # a configuration's average is no worse than its seeds' mean (convex)
        low, high = map(float, row["test MAE, single seeds"].split("-"))
        assert row["test MAE"] <= (low + high) / 2 + 0.051  # the range is printed to 0.1
    best = state["results"]["best_model"]
    assert best["seeds"] == 2
    assert best["model"] == min(table[:-2], key=lambda row: row["val MAE"])["model"]
    claims = [v["claim"] for v in state["verdicts"]]
    assert any(c.startswith("More days of history") for c in claims)
    assert any(c.startswith("A sum of sigmoids or ReLUs fits the training days") for c in claims)


@pytest.mark.parametrize("tutorial", ALL, ids=[t.id for t in ALL])
def test_the_terminal_stays_quiet_when_stdout_is_not_a_terminal(tutorial, smoke_run):
    """No TensorFlow C++ start-up lines, no retracing warnings, no progress-bar escape codes."""
    folder = smoke_run(tutorial.id)
    output = (folder.parents[1] / f"{tutorial.id}.output").read_text()
    assert output.startswith(f"{tutorial.id}: "), output[:300]
    for noise in ("I0000", "W0000", "E0000", "cuInit", "oneDNN", "cpu_feature_guard", "retracing"):
        assert noise not in output, f"{noise!r} in the output of {tutorial.id}"
    assert "\x1b[" not in output and "\r" not in output, "escape codes in piped output"
    assert "Traceback" not in output
