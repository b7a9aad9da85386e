"""Device choice, and a real tutorial trained under MirroredStrategy over two logical CPU devices
and under MultiWorkerMirroredStrategy by two worker processes on loopback."""

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from mlcourse import distribute


def test_auto_on_this_machine_names_its_choice(capsys):
    chosen = distribute.strategy("auto")
    assert chosen.num_replicas_in_sync >= 1
    assert "[mlcourse] device:" in capsys.readouterr().out


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind must be one of"):
        distribute.strategy("quantum")


def test_mixed_precision_policy_is_none_on_a_cpu():
    assert distribute.mixed_precision_policy(distribute.strategy("cpu", verbose=False)) is None


def test_tutorial_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    env = dict(os.environ, MLCOURSE_CPU_DEVICES="2")
    command = [
        sys.executable,
        "-m",
        "mlcourse",
        "run",
        "l02-all-layers-at-once",
        "--smoke",
        "--strategy",
        "mirrored",
        "--epochs-per-stage",
        "1",
        "--logdir",
        str(tmp_path),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (tmp_path / "l02-all-layers-at-once").iterdir()
    state = json.loads((folder / "run.json").read_text())
    assert state["status"] == "complete"
    assert state["device"].startswith("MirroredStrategy") and "(2 replica(s))" in state["device"]
    global_batches = {record["global_batch"] for record in state["variants"].values()}
    assert global_batches == {2 * 32}, (
        f"the per-replica batch 32 should become 64 on 2 replicas: {global_batches}"
    )


@pytest.mark.parametrize(
    "cluster, task, chief",
    [
        ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 0}, True),
        ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 1}, False),
        ({"chief": ["c:1"], "worker": ["a:1"]}, {"type": "chief", "index": 0}, True),
        ({"chief": ["c:1"], "worker": ["a:1"]}, {"type": "worker", "index": 0}, False),
    ],
)
def test_the_chief_is_worker_0_unless_the_cluster_names_one(monkeypatch, cluster, task, chief):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
    assert distribute.is_chief() is chief
    assert distribute.task() == (task["type"], task["index"])


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for one in sockets:
        one.bind(("127.0.0.1", 0))
    ports = [one.getsockname()[1] for one in sockets]
    for one in sockets:
        one.close()
    return ports


def _weights(path):
    import h5py

    arrays = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None
            )
        )
    return arrays


def test_two_workers_on_loopback_train_one_model_with_identical_weights(tmp_path):
    """Two processes under MultiWorkerMirroredStrategy (TF_CONFIG on 127.0.0.1). They get different
    seeds: identical final weights then show that worker 0's initial weights were broadcast and
        every
    update was all-reduced, not that both merely ran the same computation."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    try:
        for index in range(2):
            env = dict(
                os.environ,
                TF_CONFIG=json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": index}}
                ),
            )
            command = [
                sys.executable,
                "-m",
                "mlcourse",
                "run",
                "l02-all-layers-at-once",
                "--smoke",
                "--strategy",
                "multiworker",
                "--epochs-per-stage",
                "1",
                "--seed",
                str(index * 7),
                "--logdir",
                str(tmp_path),
            ]
            workers.append(
                subprocess.Popen(
                    command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            )
        outputs = [worker.communicate(timeout=480)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert [worker.returncode for worker in workers] == [0, 0], "\n\n".join(
        output[-2000:] for output in outputs
    )
    chief = next(p for p in (tmp_path / "l02-all-layers-at-once").iterdir() if p.name != "worker-1")
    (other,) = (tmp_path / "l02-all-layers-at-once" / "worker-1").iterdir()
    for folder, index in ((chief, 0), (other, 1)):
        state = json.loads((folder / "run.json").read_text())
        assert state["status"] == "complete"
        assert state["device"] == f"MultiWorkerMirroredStrategy (worker {index}, 2 replicas)"

    def variants(folder):  # the variants carry each worker's seed in their names
        return sorted(p.parent.name for p in folder.glob("*/final.weights.h5"))

    assert [re.sub(r"-seed\d+", "", v) for v in variants(chief)] == [
        "end-to-end",
        "greedy-stage-1",
        "greedy-stage-2",
        "greedy-stage-3",
    ]
    for variant, twin in zip(variants(chief), variants(other), strict=True):
        ours, theirs = (
            _weights(chief / variant / "final.weights.h5"),
            _weights(other / twin / "final.weights.h5"),
        )
        assert ours.keys() == theirs.keys() and ours
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name], err_msg=f"{variant}: {name}")
