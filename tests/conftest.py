import os
import sys

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


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``quick_run(tutorial_id)`` runs a tutorial once per test session in ``--quick`` mode, as a user
    would (``python -m mlcourse run ID --quick``, its own process), and returns its run folder; later
    calls for the same id reuse that run."""
    import subprocess
    import sys

    logdir = tmp_path_factory.mktemp("quick-runs")
    done = {}

    def run(tutorial_id):
        if tutorial_id not in done:
            command = [sys.executable, "-m", "mlcourse", "run", tutorial_id, "--quick", "--verbose", "0",
                       "--logdir", str(logdir)]
            result = subprocess.run(command, capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, f"{tutorial_id} --quick exited {result.returncode}:\n{result.stderr[-3000:]}"
            folders = sorted((logdir / tutorial_id).iterdir())
            assert len(folders) == 1, folders
            done[tutorial_id] = folders[0]
        return done[tutorial_id]

    return run
