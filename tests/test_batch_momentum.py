"""mlcourse.callbacks.epoch_timer and the lecture 5 tutorial (batch size and momentum)."""

import json

import keras
import numpy as np
import pytest

from mlcourse.callbacks.epoch_timer import EpochTimer


def tiny_fit(timer, epochs, batch_size, n=256):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(n, 4)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[timer])
    return model


def test_epoch_timer_counts_updates_and_times_epochs(tmp_path):
    timer = EpochTimer(tmp_path)
    tiny_fit(timer, epochs=3, batch_size=32)
    assert timer.updates == [8, 8, 8]
    assert all(s > 0 for s in timer.seconds)
    summary = timer.summary()
    assert summary["seconds_per_epoch"] == pytest.approx(min(timer.seconds[1:]))
    assert summary["seconds_per_update"] == pytest.approx(min(s / 8 for s in timer.seconds[1:]))
    saved = json.loads((tmp_path / "timing.json").read_text())
    assert sorted(saved) == ["0", "1", "2"]
    resumed = EpochTimer(
        tmp_path
    )  # a new timer on the same folder (a resumed run) keeps the epochs
    assert resumed.seconds == timer.seconds and resumed.updates == [8, 8, 8]


def test_epoch_timer_counts_updates_with_steps_per_execution():
    timer = EpochTimer()
    keras.utils.set_random_seed(0)
    x = np.zeros((100, 2), "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", steps_per_execution=4)
    model.fit(x, x[:, :1], batch_size=10, epochs=2, verbose=0, callbacks=[timer])
    assert timer.updates == [10, 10]


def test_epoch_timer_summary_needs_an_epoch():
    with pytest.raises(ValueError, match="summary"):
        EpochTimer().summary()


def test_tutorial_smoke_mode(smoke_run):
    run_dir = smoke_run("l05-batch-momentum")
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    rows = state["tables"]["Batch size x momentum, 2 epochs, SGD η = 0.02"]
    assert {(r["batch"], r["momentum"]) for r in rows} == {
        (16, 0.0),
        (16, 0.9),
        (256, 0.0),
        (256, 0.9),
    }
    for row in rows:
        assert row["updates/epoch"] == 1024 // row["batch"]
        assert 0 < row["seconds_per_update"] < row["seconds_per_epoch"]
        assert 0.1 < row["val_accuracy"] <= 1  # better than chance (0.1) after two epochs
    matched = state["tables"]["Small vs large batch at the same training loss (2)"]
    assert {r["batch"] for r in matched} == {16, 256}
    assert len(state["verdicts"]) == 5
    assert list(run_dir.glob("batch-16_momentum-0.9/events.out.tfevents.*"))  # the HParams trial
    assert list(run_dir.glob("events.out.tfevents.*"))  # the run's HParams config and tables
