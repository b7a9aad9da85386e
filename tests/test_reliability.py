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
import tensorflow as tf

from mlcourse import cli, runner

RESUMABLE = "l02-all-layers-at-once"


def _epoch_steps(event_file):
    steps = []
    for record in tf.data.TFRecordDataset(str(event_file)):
        event = tf.compat.v1.Event.FromString(record.numpy())
        steps += [event.step for value in event.summary.value if value.tag == "epoch_loss"]
    return steps


def test_sigkill_mid_training_then_resume_loses_at_most_one_epoch(tmp_path):
    command = [
        sys.executable,
        "-m",
        "mlcourse",
        "run",
        RESUMABLE,
        "--logdir",
        str(tmp_path),
        "--verbose",
        "0",
        "--epochs-per-stage",
        "12",
    ]
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    history_file, deadline, done_epochs = None, time.time() + 240, 0
    try:
        while time.time() < deadline and done_epochs < 5:
            time.sleep(0.05)
            found = list(tmp_path.glob(f"{RESUMABLE}/*/end-to-end/history.json"))
            if found:
                history_file = found[0]
                try:
                    done_epochs = len(json.loads(history_file.read_text()))
                except ValueError:
                    continue
        assert done_epochs >= 5, "training did not start in time"
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        done_epochs = len(json.loads(history_file.read_text()))
    finally:
        if victim.poll() is None:
            victim.kill()
    run_dir = history_file.parents[1]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    assert done_epochs < 36, "killed too late to test a resume"
    killed_files = set((run_dir / "end-to-end" / "train").glob("events.out.tfevents.*"))

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming in {run_dir}" in resumed.stdout
    new_files = set((run_dir / "end-to-end" / "train").glob("events.out.tfevents.*")) - killed_files
    first_epoch_after_resume = min(step for f in new_files for step in _epoch_steps(f))
    assert first_epoch_after_resume >= done_epochs - 1, (first_epoch_after_resume, done_epochs)
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    assert len(json.loads((run_dir / "end-to-end" / "history.json").read_text())) == 36


def test_two_seeded_deterministic_runs_give_identical_metrics(tmp_path):
    tables = []
    for _ in range(2):
        argv = [
            "run",
            RESUMABLE,
            "--quick",
            "--deterministic",
            "--seed",
            "7",
            "--fresh",
            "--verbose",
            "0",
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
    monkeypatch.setattr(keras.callbacks.BackupAndRestore, "_save_model", no_space, raising=False)
    args = runner.tutorial_parser({"id": "disk"}).parse_args(
        ["--logdir", str(tmp_path), "--verbose", "0"]
    )
    x = np.ones((8, 2), "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(runner.RunError, match="No space left on device.*free some space"):
        with runner.Run({"id": "disk"}, args) as run:
            run.fit("v", model, x, x[:, :1], epochs=2)
    state = json.loads((run.dir / "run.json").read_text())
    assert state["status"] == "failed" and "No space left" in state["error"]
    assert "v" not in state["variants"]
