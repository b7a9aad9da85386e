"""Device choice, and a real tutorial trained under MirroredStrategy over two logical CPU devices."""

import json
import os
import subprocess
import sys

import pytest

from mlcourse import distribute


def test_auto_on_this_machine_names_its_choice(capsys):
    chosen = distribute.strategy("auto")
    assert chosen.num_replicas_in_sync >= 1
    assert "[mlcourse] device:" in capsys.readouterr().out


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind must be one of"):
        distribute.strategy("quantum")


def test_mixed_precision_policy_by_strategy():
    assert distribute.mixed_precision_policy(distribute.strategy("cpu", verbose=False)) == "mixed_float16"


def test_tutorial_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    env = dict(os.environ, MLCOURSE_CPU_DEVICES="2")
    command = [sys.executable, "-m", "mlcourse", "run", "l02-all-layers-at-once", "--quick", "--strategy", "mirrored",
               "--verbose", "0", "--logdir", str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (tmp_path / "l02-all-layers-at-once").iterdir()
    state = json.loads((folder / "run.json").read_text())
    assert state["status"] == "complete"
    assert state["device"].startswith("MirroredStrategy") and "(2 replica(s))" in state["device"]
