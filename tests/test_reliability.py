"""Reliability: SIGKILL and resume, determinism, a full disk, safe_mode loading."""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from mlcourse import cli, options, runner

import events

RESUMABLE = "l02-all-layers-at-once"
STAGE = 150  # epochs per stage: three stages, long enough to be killed in the middle


def _epoch_steps(event_file):
    return [step for step, _ in events.values(event_file).get("epoch_loss", [])]


def test_sigkill_mid_training_then_resume_continues_from_the_last_checkpoint(tmp_path):
    command = [
        sys.executable,
        "-m",
        "mlcourse",
        "run",
        RESUMABLE,
        "--logdir",
        str(tmp_path),
        "--epochs-per-stage",
        str(STAGE),
        "--seeds",
        "1",
    ]
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer, deadline = None, time.time() + 240
    try:
        while time.time() < deadline and pointer is None:  # the first checkpoint (after ~2 s)
            time.sleep(0.05)
            found = list(tmp_path.glob(f"{RESUMABLE}/*/end-to-end-seed0/backup/checkpoint.json"))
            pointer = found[0] if found else None
        assert pointer is not None, "training did not checkpoint in time"
        time.sleep(0.5)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    saved = json.loads(pointer.read_text())["epoch"]
    variant = pointer.parents[1]
    run_dir = variant.parent
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    assert 0 < saved < 3 * STAGE, "killed too late to test a resume"
    assert len(json.loads((variant / "history.json").read_text())) >= saved
    killed_files = set((variant / "train").glob("events.out.tfevents.*"))

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming in {run_dir}" in resumed.stdout
    new_files = set((variant / "train").glob("events.out.tfevents.*")) - killed_files
    first_epoch_after_resume = min(step for f in new_files for step in _epoch_steps(f))
    assert first_epoch_after_resume == saved, (first_epoch_after_resume, saved)
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    assert len(json.loads((variant / "history.json").read_text())) == 3 * STAGE
    assert not list((variant / "backup").glob("*.weights.h5")), (
        "a finished model keeps no checkpoint"
    )


def test_two_seeded_deterministic_runs_give_identical_metrics(tmp_path):
    tables = []
    for _ in range(2):
        argv = [
            "run",
            RESUMABLE,
            "--smoke",
            "--deterministic",
            "--seed",
            "7",
            "--fresh",
            "--logdir",
            str(tmp_path),
        ]
        assert cli.main(argv) == 0
        newest = max((tmp_path / RESUMABLE).iterdir())
        tables.append(json.loads((newest / "run.json").read_text())["tables"])
    assert len(list((tmp_path / RESUMABLE).iterdir())) == 2
    assert tables[0] == tables[1]


def test_full_disk_while_checkpointing_fails_clearly_and_not_complete(tmp_path, monkeypatch):
    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.Model, "save_weights", no_space)
    args = options.parse("disk", {}, ["--logdir", str(tmp_path)])
    x = np.ones((8, 2), "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(runner.RunError, match="No space left on device.*free some space"):
        with runner.Run({"id": "disk", "lecture": "0", "title": "disk"}, args) as run:
            run.fit("v", model, x, x[:, :1], epochs=2)
    state = json.loads((run.dir / "run.json").read_text())
    assert state["status"] == "failed" and "No space left" in state["error"]
    assert "v" not in state["variants"]


@pytest.mark.parametrize("first_import", ["import mlcourse", "import mlcourse.layers"])
def test_a_saved_model_loads_in_a_fresh_process_after_one_import(tmp_path, first_import):
    """``keras.saving.load_model(..., safe_mode=True)`` finds every mlcourse object (a layer, an
    optimizer with a schedule, a loss) after ``import mlcourse`` alone."""
    import mlcourse.layers
    import mlcourse.losses
    import mlcourse.optimizers
    import mlcourse.schedules

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5, 8)), mlcourse.layers.MultiHeadSelfAttention(8, 2), keras.layers.Dense(3)]
    )
    schedule = mlcourse.schedules.LinearWarmup(mlcourse.schedules.Decay(0.01, 100), warmup_steps=10)
    model.compile(optimizer=mlcourse.optimizers.Adam(schedule), loss=mlcourse.losses.CrossEntropy())
    x = np.random.default_rng(0).normal(size=(4, 5, 8)).astype("float32")
    model.fit(x, np.eye(3)[np.arange(20) % 3].reshape(4, 5, 3), epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", keras.ops.convert_to_numpy(model(x)))
    script = (
        f"{first_import}\n"
        "import keras, numpy as np\n"
        f"model = keras.saving.load_model({str(path)!r}, safe_mode=True)\n"
        f"x, y = np.load({str(tmp_path / 'x.npy')!r}), np.load({str(tmp_path / 'y.npy')!r})\n"
        "print('SAME', np.array_equal(keras.ops.convert_to_numpy(model(x)), y),\n"
        "      type(model.optimizer).__module__, type(model.loss).__module__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "SAME True mlcourse.optimizers" in result.stdout, result.stderr[-2000:]
    assert "mlcourse.losses" in result.stdout
