"""The tutorial runner: new folders, resuming, NaN and log-folder errors, tables, figures,
HParams.
"""

import json
import os

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure

from mlcourse import options, runner
from mlcourse.tables import format_table

import events

TUTORIAL = {"id": "unit-test", "lecture": "0", "title": "runner test"}


def _args(tmp_path, *extra):
    return options.parse(TUTORIAL["id"], {}, ["--logdir", str(tmp_path), *extra])


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def _model(learning_rate=0.01):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def _tags(folder):
    return events.tags(folder)


def test_each_run_gets_a_new_folder_and_a_complete_status(tmp_path):
    x, y = _data()
    folders = []
    for _ in range(2):
        with runner.Run(TUTORIAL, _args(tmp_path)) as run:
            history = run.fit("small", _model(), x, y, epochs=2, batch_size=16)
            folders.append(run.dir)
        assert len(history.history["loss"]) == 2
    assert folders[0] != folders[1] and all(f.parent == tmp_path / "unit-test" for f in folders)
    state = json.loads((folders[1] / "run.json").read_text())
    assert state["status"] == "complete" and state["variants"]["small"]["status"] == "complete"
    assert {"epoch_loss", "learning_rate"} <= _tags(folders[1] / "small")


def test_interrupted_run_resumes_in_its_folder(tmp_path):
    x, y = _data()

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with runner.Run(TUTORIAL, _args(tmp_path)) as run:
            run.fit("done-first", _model(), x, y, epochs=2, batch_size=16)
            run.fit("cut", _model(), x, y, epochs=6, batch_size=16, callbacks=[Interrupt()])
    first = run.dir
    assert json.loads((first / "run.json").read_text())["status"] == "interrupted"

    epochs_run = []

    class Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs_run.append(epoch)

    with runner.Run(TUTORIAL, _args(tmp_path)) as run:
        assert run.resumed and run.dir == first
        assert run.is_done("done-first")
        run.fit("done-first", _model(), x, y, epochs=2, batch_size=16, callbacks=[Count()])
        assert epochs_run == []  # finished variants are reloaded, not retrained
        history = run.fit("cut", _model(), x, y, epochs=6, batch_size=16, callbacks=[Count()])
    assert epochs_run[0] >= 2, "at most one epoch lost"
    assert history.epoch == list(range(6))
    with runner.Run(TUTORIAL, _args(tmp_path)) as run:  # the finished run is never reused
        assert run.dir != first


def test_results_outside_fit_are_kept_for_a_resumed_run(tmp_path):
    calls = []

    def evaluate():
        calls.append(1)
        return [{"draw": 0, "accuracy": np.float32(0.75)}]

    with pytest.raises(KeyboardInterrupt):
        with runner.Run(TUTORIAL, _args(tmp_path)) as run:
            assert run.result("draws", evaluate) == [{"draw": 0, "accuracy": 0.75}]
            raise KeyboardInterrupt
    with runner.Run(TUTORIAL, _args(tmp_path)) as run:
        assert run.resumed
        assert run.result("draws", evaluate) == [{"draw": 0, "accuracy": 0.75}]
        assert run.result("other", lambda: 3) == 3
    assert len(calls) == 1, "a resumed run computed a kept result again"


def test_fresh_flag_never_resumes(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with runner.Run(TUTORIAL, _args(tmp_path)):
            raise KeyboardInterrupt
    with runner.Run(TUTORIAL, _args(tmp_path, "--fresh")) as run:
        assert not run.resumed


def test_nan_loss_stops_with_a_hint_and_the_run_is_marked_failed(tmp_path):
    x, y = _data()
    with pytest.raises(runner.RunError, match="try a lower one"):
        with runner.Run(TUTORIAL, _args(tmp_path)) as run:
            run.fit("fine", _model(), x, y, epochs=1, batch_size=16)
            run.fit("diverges", _model(learning_rate=1e6), x, y * 1e6, epochs=3, batch_size=16)
    assert json.loads((run.dir / "run.json").read_text())["status"] == "failed"
    with runner.Run(
        TUTORIAL, _args(tmp_path)
    ) as again:  # after a fix, the same command continues the run
        assert again.resumed and again.dir == run.dir and again.is_done("fine")


def test_allow_nan_records_a_diverged_variant(tmp_path):
    x, y = _data()
    with runner.Run(TUTORIAL, _args(tmp_path)) as run:
        run.fit(
            "diverges",
            _model(learning_rate=1e6),
            x,
            y * 1e6,
            epochs=3,
            batch_size=16,
            allow_nan=True,
        )
        assert run.diverged("diverges")


def test_unwritable_logdir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(runner.RunError, match="pass --logdir"):
        with runner.Run(TUTORIAL, _args(blocker)):
            pass


def test_table_text_figure_and_hparams_reach_tensorboard(tmp_path):
    with runner.Run(TUTORIAL, _args(tmp_path)) as run:
        printed = run.table("Results", [{"model": "a", "mae": 1.5}, {"model": "b", "mae": 2.25}])
        figure = Figure()
        figure.subplots().plot([0, 1], [1, 0])
        png = run.figure("curve", figure)
        run.log_hparams("trial-1", {"batch_size": 16, "momentum": 0.9}, {"val_accuracy": 0.5})
        run.log_hparams("trial-2", {"batch_size": 64, "momentum": 0.0}, {"val_accuracy": 0.7})
        run.table(
            "Results", [{"model": "a", "mae": 1.5}, {"model": "b", "mae": 2.25}]
        )  # e.g. after a resume
    assert "2.25" in printed and png.exists()
    assert (run.dir / "summary.md").read_text().count("## Results") == 1
    tags = _tags(run.dir)
    assert {"unit-test/01_Results", "curve", "_hparams_/session_start_info", "val_accuracy"} <= tags
    assert "_hparams_/experiment" not in tags  # TensorBoard builds the union over all runs
    trials = [p for p in run.dir.iterdir() if p.name.startswith("trial-")]
    assert len(trials) == 2


def test_markdown_tables_keep_a_pipe_in_its_cell_and_round_numpy_floats():
    rows = [{"formula": "½|λ_min|t²", "value": np.float32(1.0000179)}]
    markdown = format_table(rows, markdown=True)
    assert "½\\|λ_min\\|t²" in markdown and "| 1 |" in markdown
    assert format_table([{"x": np.float32(-2.4813791e-05)}]).splitlines()[-1] == "-2.481e-05"


def test_argument_types_reject_bad_values():
    parser = options.parser(TUTORIAL["id"])
    for bad in (
        ["--seed", "-1"],
        ["--seed", "x"],
        ["--strategy", "quantum"],
        ["--seed", "4294967296"],
    ):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(bad)
        assert exit_.value.code == 2


class _InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_a_checkpoint_damaged_by_a_kill_falls_back_to_the_one_before(tmp_path, capsys):
    """A kill inside a write leaves a truncated weights file and an empty checkpoint.json: the
    rerun says so in one line each, resumes from the older file and gives no storage advice."""
    x, y = _data()
    for stop in (1, 3):  # two interrupted attempts leave epoch-00002 and epoch-00004
        with pytest.raises(KeyboardInterrupt):
            with runner.Run(TUTORIAL, _args(tmp_path)) as run:
                run.fit(
                    "cut", _model(), x, y, epochs=8, batch_size=16, callbacks=[_InterruptAt(stop)]
                )
    backup = run.dir / "cut" / "backup"
    files = sorted(backup.glob("epoch-*.weights.h5"))
    assert [f.name for f in files] == ["epoch-00002.weights.h5", "epoch-00004.weights.h5"]
    newest = files[-1]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 3])  # killed mid-write
    (backup / "checkpoint.json").write_text("")
    capsys.readouterr()

    epochs_run = []

    class Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs_run.append(epoch)

    with runner.Run(TUTORIAL, _args(tmp_path)) as again:
        assert again.dir == run.dir
        history = again.fit("cut", _model(), x, y, epochs=8, batch_size=16, callbacks=[Count()])
    out = capsys.readouterr().out
    damaged = [line for line in out.splitlines() if " is damaged (" in line]
    assert len(damaged) == 2, out
    assert "checkpoint.json" in damaged[0] and "epoch-00004" in damaged[1]
    assert all(line.endswith("resuming from epoch 2") for line in damaged), damaged
    assert "free some space" not in out and "Traceback" not in out
    assert epochs_run[0] == 2 and history.epoch[-1] == 7
    assert json.loads((again.dir / "run.json").read_text())["status"] == "complete"


def test_the_owner_of_a_run_is_its_lock_not_a_pid(tmp_path):
    """A run left 'running' by a killed process (its PID possibly reused since) is resumed; a run
    whose owner is alive is never taken over."""
    with pytest.raises(KeyboardInterrupt):
        with runner.Run(TUTORIAL, _args(tmp_path)) as run:
            raise KeyboardInterrupt
    record_path = run.dir / "run.json"
    record = json.loads(record_path.read_text())
    record.update(status="running", pid=os.getpid())  # as a SIGKILL leaves it, PID now in use
    record_path.write_text(json.dumps(record))
    with runner.Run(TUTORIAL, _args(tmp_path)) as again:
        assert again.resumed and again.dir == run.dir
        with runner.Run(TUTORIAL, _args(tmp_path)) as second:  # the owner is alive
            assert not second.resumed and second.dir != run.dir


@pytest.mark.parametrize(
    ("flags", "full_scale", "expected"),
    [
        ((), True, "inconclusive"),
        ((), False, "does not hold"),
        (("--full",), True, "does not hold"),
    ],
)
def test_a_claim_about_the_full_scale_is_not_reversed_by_a_smaller_run(
    tmp_path, flags, full_scale, expected
):
    """Outside --full, a result against a full-scale claim reads inconclusive, numbers kept."""
    with runner.Run(TUTORIAL, _args(tmp_path, *flags)) as run:
        shown = run.verdict("more data helps", "it did not: 0.1", False, full_scale=full_scale)
        folder = run.dir
    (recorded,) = json.loads((folder / "run.json").read_text())["verdicts"]
    assert shown == recorded["verdict"] == expected
    assert recorded["measured"] == "it did not: 0.1"
    assert ("at this size" in recorded["reason"]) == (expected == "inconclusive")


def test_full_scale_must_be_a_bool(tmp_path):
    with runner.Run(TUTORIAL, _args(tmp_path)) as run:
        with pytest.raises(ValueError, match="full_scale must be True or False, got 'False'"):
            run.verdict("more data helps", "0.1", False, full_scale="False")
