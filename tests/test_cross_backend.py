"""The same numbers on TensorFlow and JAX for every public layer, optimizer, schedule and loss.

This (TensorFlow) process computes every battery case's arrays (``tests/cross_backend.py``) and
saves them with the layers' initial weights; a second process under ``KERAS_BACKEND=jax`` starts
from those weights, computes the same and saves its arrays; this test compares each pair.
"""

import os
import subprocess
import sys
from pathlib import Path

import cross_backend
import numpy as np
import pytest

HERE = Path(__file__).parent
RTOL = ATOL = 1e-4  # float32 on two backends (different kernels, summation orders)


@pytest.mark.slow
def test_every_public_class_gives_the_same_numbers_on_jax(tmp_path):
    pytest.importorskip("jax", reason="jax is in the test extra: pip install -e '.[test]'")
    ours = cross_backend.compute()
    reference = tmp_path / "tensorflow.npz"
    np.savez(reference, **ours)
    result = subprocess.run(
        [sys.executable, str(HERE / "cross_backend.py"), str(tmp_path / "jax.npz"), str(reference)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    theirs = np.load(tmp_path / "jax.npz")
    assert str(theirs["backend"]) == "jax"
    assert sorted(k for k in theirs.files if k != "backend") == sorted(ours)
    worst, far = 0.0, []
    for name, a in ours.items():
        b = theirs[name]
        assert a.shape == b.shape, name
        difference = np.abs(a.astype("float64") - b.astype("float64"))
        scale = ATOL + RTOL * np.abs(a.astype("float64"))
        worst = max(worst, float(np.max(difference / scale, initial=0.0)))
        if np.any(difference > scale):
            far.append(f"{name}: largest difference {difference.max():.3g}")
    classes = {name.split("/")[0] for name in ours}
    print(
        f"cross-backend: {len(classes)} classes, {len(ours)} arrays, "
        f"largest difference {worst:.3g} of the tolerance"
    )
    assert not far, "TensorFlow and JAX differ:\n" + "\n".join(far)
