import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
import pytest  # noqa: E402

BACKEND = keras.backend.backend()


def pytest_ignore_collect(collection_path, config):
    """On a backend other than TensorFlow only the test files with tests marked ``backends`` are
    collected (the others import TensorFlow-only parts of mlcourse)."""
    if BACKEND == "tensorflow" or collection_path.suffix != ".py":
        return None
    if collection_path.name.startswith("test_"):
        return "mark.backends" not in collection_path.read_text()
    return None


def pytest_collection_modifyitems(config, items):
    """On another backend, keep only the tests marked ``backends`` (the battery and the Keras-twin
    equalities); on TensorFlow, every test."""
    if BACKEND == "tensorflow":
        return
    kept = [item for item in items if item.get_closest_marker("backends")]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from a clean Keras session and the float32 policy. Without the garbage
    collection ``clear_session`` runs by default: a full ``gc.collect()`` over TensorFlow's heap
    takes 0.1-0.3 s, before each of ~1,200 tests (Python still collects as it goes)."""
    keras.backend.clear_session(free_memory=False)
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


class SmokeRuns:
    """Runs tutorials in ``--smoke`` mode, each once per test session, as notebooks: ``python -m
    mlcourse notebook ID --execute --smoke`` writes the tutorial as an ``.ipynb`` and runs every
    cell in a fresh Jupyter kernel (nbclient), which runs the tutorial's code through the runner as
    the script does (``test_notebooks`` checks the script path gives the same tables). The
    executed notebooks are in ``<logdir>/notebooks``.

    ``prefetch`` starts the ones the session will ask for in a background thread, so they run
    beside the in-process tests. Under pytest-xdist every worker shares one log folder: a run is
    claimed by creating ``<id>.claim`` (atomic), run by whoever claimed it, and its outcome
    written to ``<id>.result.json``, which the others wait for: each tutorial runs once."""

    TIMEOUT = 1200

    def __init__(self, logdir):
        self.logdir = logdir
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.processes = set()
        self.stopping = False
        self.thread = None

    def __call__(self, tutorial_id):
        if self._claim(tutorial_id):
            self._run(tutorial_id)
        result = self._result(tutorial_id)
        assert "error" not in result, result.get("error")
        return Path(result["folder"])

    def prefetch(self, tutorial_ids):
        def run_all():
            for tutorial_id in tutorial_ids:
                if self.stopping:
                    return
                if self._claim(tutorial_id):
                    self._run(tutorial_id)

        self.thread = threading.Thread(target=run_all, name="smoke-run-prefetch", daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        for process in list(self.processes):
            process.kill()
        if self.thread is not None:
            self.thread.join(timeout=60)

    def _claim(self, tutorial_id):
        try:
            os.close(os.open(self.logdir / f"{tutorial_id}.claim", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    def _result(self, tutorial_id):
        path = self.logdir / f"{tutorial_id}.result.json"
        deadline = time.monotonic() + self.TIMEOUT
        while not path.exists():
            assert time.monotonic() < deadline, f"{tutorial_id}: no smoke run result in time"
            time.sleep(0.2)
        return json.loads(path.read_text())

    def _finish(self, tutorial_id, result):
        path = self.logdir / f"{tutorial_id}.result.json"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(result))
        os.replace(tmp, path)

    def _run(self, tutorial_id):
        command = [
            sys.executable,
            "-m",
            "mlcourse",
            "notebook",
            tutorial_id,
            "--execute",
            "--smoke",
            "--logdir",
            str(self.logdir),
            "--out",
            str(self.logdir / "notebooks"),
        ]
        try:
            env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
            self.processes.add(process)
            try:
                stdout, stderr = process.communicate(timeout=900)
            finally:
                process.kill()
                self.processes.discard(process)
            if process.returncode != 0:
                raise RuntimeError(
                    f"{tutorial_id}: the smoke notebook exited {process.returncode}:\n"
                    f"{stdout[-2000:]}\n{stderr[-3000:]}"
                )
            (self.logdir / f"{tutorial_id}.output").write_text(stdout + stderr)
            folders = sorted((self.logdir / tutorial_id).iterdir())
            if len(folders) != 1:
                raise RuntimeError(
                    f"{tutorial_id} --smoke left {len(folders)} run folders: {folders}"
                )
            self._finish(tutorial_id, {"folder": str(folders[0])})
        except Exception as error:  # reported by the test that asks for this run
            self._finish(tutorial_id, {"error": f"{type(error).__name__}: {error}"})


def _tutorials_the_session_will_run(session):
    wanted = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        tutorial = callspec.params.get("tutorial") if callspec else None
        if "smoke_run" in getattr(item, "fixturenames", ()) and hasattr(tutorial, "id"):
            wanted.append(tutorial.id)
    return list(dict.fromkeys(wanted))


@pytest.fixture(scope="session")
def smoke_run(request, tmp_path_factory):
    """``smoke_run(tutorial_id)`` runs a tutorial once per test session in ``--smoke`` mode and
    returns its run folder (what it printed is kept in ``<logdir>/<id>.output``); later calls for
    the same id reuse that run. The tutorials the session's parametrised tests will ask for are
    started in the background on first use (see ``SmokeRuns``)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one per session
    runs = SmokeRuns(shared / "smoke-runs")
    runs.prefetch(_tutorials_the_session_will_run(request.session))
    yield runs
    runs.close()
