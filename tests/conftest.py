import concurrent.futures
import os
import subprocess
import sys
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from a clean Keras session and the float32 policy."""
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


class SmokeRuns:
    """Runs tutorials in ``--smoke`` mode, each once, as a user would
    (``python -m mlcourse run ID --smoke``, its own process). ``prefetch`` starts the ones the
    session will ask for in one background thread, so they run on the second core while the
    in-process tests use the first; a test that asks for a run not yet started runs it itself, and
    one already started is waited for."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.lock = threading.Lock()
        self.runs = {}  # id -> Future of its run folder, created by whoever claims the run
        self.processes = set()
        self.stopping = False
        self.thread = None

    def __call__(self, tutorial_id):
        if self._claim(tutorial_id):
            self._run(tutorial_id)
        failure = self.runs[tutorial_id].exception()
        assert failure is None, f"{type(failure).__name__}: {failure}"
        return self.runs[tutorial_id].result()

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
        with self.lock:
            if tutorial_id in self.runs:
                return False
            self.runs[tutorial_id] = concurrent.futures.Future()
            return True

    def _run(self, tutorial_id):
        command = [
            sys.executable,
            "-m",
            "mlcourse",
            "run",
            tutorial_id,
            "--smoke",
            "--logdir",
            str(self.logdir),
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
                    f"{tutorial_id} --smoke exited {process.returncode}:\n{stderr[-3000:]}"
                )
            (self.logdir / f"{tutorial_id}.output").write_text(stdout + stderr)
            folders = sorted((self.logdir / tutorial_id).iterdir())
            if len(folders) != 1:
                raise RuntimeError(
                    f"{tutorial_id} --smoke left {len(folders)} run folders: {folders}"
                )
            self.runs[tutorial_id].set_result(folders[0])
        except Exception as error:  # reported by the test that asks for this run
            self.runs[tutorial_id].set_exception(error)


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
    runs = SmokeRuns(tmp_path_factory.mktemp("smoke-runs"))
    runs.prefetch(_tutorials_the_session_will_run(request.session))
    yield runs
    runs.close()
