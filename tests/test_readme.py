"""The README's subclassing examples run as written, and its course map names every tutorial."""

import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

from mlcourse import tutorials

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_subclass_examples_run_and_save():
    namespace = {}
    for block in _python_blocks():
        if "register_keras_serializable" in block:
            exec(compile(block, "README.md", "exec"), namespace)
    model = namespace["model"]  # SoftplusSum
    x = np.random.default_rng(0).normal(size=(4, 7)).astype("float32")
    assert model(x).shape == (4, 1)
    attention = namespace["CosineAttention"](units=8)
    tokens = np.random.default_rng(1).normal(size=(2, 5, 8)).astype("float32")
    assert keras.ops.convert_to_numpy(attention(tokens)).shape[:2] == (2, 5)


def test_course_map_names_every_tutorial():
    for tutorial in tutorials.discover():
        assert f"`{tutorial.id}`" in README, f"README course map lacks {tutorial.id}"
        assert tutorial.path.name == tutorial.id.replace("-", "_") + ".py"


def test_setup_is_the_two_commands_and_ci_calls_the_test_one():
    assert "make tour" in README and "make test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci


def test_the_jax_example_trains_on_the_jax_backend_as_written():
    (block,) = [b for b in _python_blocks() if 'os.environ["KERAS_BACKEND"] = "jax"' in b]
    check = (
        "\nimport sys\nassert keras.backend.backend() == 'jax'\n"
        "assert 'tensorflow' not in sys.modules, 'the library imported TensorFlow'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", block + check], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
