"""mlcourse.analysis.surfaces and the lecture 6 tutorial (l06-error-surface)."""

import json

import numpy as np
import pytest

from mlcourse import optimizers as O
from mlcourse.analysis import surfaces


def test_elongated_bowl_values_and_grid():
    bowl = surfaces.elongated_bowl(flat=1.0, steep=100.0, start=(-9.0, 0.9))
    assert bowl((0.0, 0.0)) == 0.0
    assert bowl((-9.0, 0.9)) == pytest.approx(0.5 * (81 + 100 * 0.81))
    xs, ys, zs = bowl.grid(31)
    assert xs.shape == ys.shape == zs.shape == (31, 31)
    np.testing.assert_allclose(zs, 0.5 * (xs**2 + 100 * ys**2), rtol=1e-5)
    with pytest.raises(ValueError, match="steep"):
        surfaces.elongated_bowl(steep=0.0)


def test_network_slice_has_its_minimum_at_the_teacher_weights():
    surface = surfaces.network_slice()
    assert surface(surface.minimum) == pytest.approx(0.0, abs=1e-10)
    xs, ys, zs = surface.grid(141)
    i = np.unravel_index(zs.argmin(), zs.shape)
    assert abs(xs[i] - surface.minimum[0]) < 0.1 and abs(ys[i] - surface.minimum[1]) < 0.1
    assert surface(surface.start) > 1.0


def test_gradient_descent_path_follows_the_closed_form():
    """On ½(a θ₀² + b θ₁²) gradient descent gives θᵗ = (1 − η a)ᵗ θ⁰ per coordinate."""
    bowl, eta, steps = surfaces.elongated_bowl(flat=1.0, steep=100.0), 0.015, 40
    path = surfaces.descend(bowl, O.GradientDescent(eta), steps)
    t = np.arange(steps + 1)[:, None]
    expected = np.array(bowl.start) * (1 - eta * np.array([1.0, 100.0])) ** t
    np.testing.assert_allclose(path.points, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(path.losses, bowl(expected), rtol=1e-4, atol=1e-8)


def test_steps_to_counts_the_step_after_which_the_loss_stays_below():
    path = surfaces.Trajectory("t", np.zeros((6, 2)), np.array([5.0, 0.5, 2.0, 0.5, 0.4, 0.3]))
    assert path.steps_to(1.0) == 3
    assert path.steps_to(10.0) == 0
    assert path.steps_to(0.1) is None
    assert path.final_loss == 0.3


@pytest.mark.slow
def test_tutorial_smoke_mode(smoke_run):
    run_dir = smoke_run("l06-error-surface")
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    main_table = next(
        rows for title, rows in state["tables"].items() if title.startswith("Steps to remove")
    )
    assert len(main_table) == 2 * 8 * 2  # surfaces x optimizers x schedules
    assert {row["optimizer"] for row in main_table} >= {
        "GD",
        "Momentum",
        "EMAMomentum",
        "GlobalRMSProp",
        "Adam",
    }
    constant = {
        (r["surface"], r["optimizer"]): r for r in main_table if r["schedule"] == "constant"
    }
    for surface in (
        "elongated-bowl",
        "network-slice",
    ):  # equal η(1-β): the same path, so the same numbers
        assert constant[surface, "Momentum"]["final loss"] == pytest.approx(
            constant[surface, "EMAMomentum"]["final loss"], rel=1e-3, abs=1e-9
        )
    for name in (
        "trajectories_elongated-bowl.png",
        "trajectories_network-slice.png",
        "loss_curves.png",
    ):
        assert (run_dir / name).exists(), name
    assert list(run_dir.glob("elongated-bowl_Adam_constant/events.out.tfevents.*"))
    summary = (run_dir / "summary.md").read_text()
    assert "one global σ vs a σ per parameter" in summary
    assert len(state["verdicts"]) == 5
