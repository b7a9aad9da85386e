"""mlcourse.analysis.hessian and mlcourse.callbacks.critical_points (ML2021 L04,
critical points).
"""

import keras
import numpy as np
import pytest

from mlcourse.analysis.hessian import (
    LossSurface,
    classify_critical_point,
    escape_direction,
    minimum_ratio,
)
from mlcourse.callbacks.critical_points import CriticalPointLogger

import events


def weighted_square(y_true, y_pred):
    """Per-sample c·ŷ²: with ŷ = qᵢᵀw this makes L(w) = mean c_i (qᵢᵀw)², a quadratic of chosen
    curvature.
    """
    return y_true[:, 0] * keras.ops.square(y_pred[:, 0])


def quadratic(curvatures, seed=0):
    """A linear model whose loss is ½ wᵀ H w with H = Qᵀ diag(curvatures) Q (Q a random rotation), w
    = 0.
    """
    d = len(curvatures)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    model = keras.Sequential(
        [keras.Input((d,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    # L = (1/d) Σ cᵢ (qᵢᵀw)²  ⇒  H = (2/d) Σ cᵢ qᵢqᵢᵀ; pick cᵢ = d·λᵢ/2 so that H's eigenvalues are
    # λᵢ
    c = np.asarray(curvatures, dtype="float32") * d / 2
    surface = LossSurface(model, q.astype("float32"), c[:, None], loss=weighted_square)
    return surface, q


def sinc_model(hidden=(8, 8), seed=0, n=64):
    keras.utils.set_random_seed(seed)
    x = np.linspace(0, 1, n, dtype="float32")[:, None]
    y = np.sinc(5 * x).astype("float32")
    layers = (
        [keras.Input((1,))]
        + [keras.layers.Dense(h, activation="tanh") for h in hidden]
        + [keras.layers.Dense(1)]
    )
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return model, x, y


# ---- exact Hessian, Hv, Lanczos ------------------------------------------------------------------


def test_exact_hessian_of_a_quadratic_has_the_chosen_eigenvalues():
    eigenvalues = np.array([-3.0, -0.5, 0.25, 1.0, 4.0, 10.0])
    surface, q = quadratic(eigenvalues)
    h = surface.hessian()
    np.testing.assert_allclose(np.linalg.eigvalsh(h), eigenvalues, rtol=1e-5)
    np.testing.assert_allclose(h, q.T @ np.diag(eigenvalues) @ q, atol=1e-5)
    assert surface.gradient_norm() == 0.0  # w = 0 is a critical point of ½ wᵀHw


def test_hessian_vector_product_matches_the_matrix():
    model, x, y = sinc_model()
    surface = LossSurface(model, x, y)
    h = surface.hessian()
    v = np.random.default_rng(1).normal(size=surface.num_parameters)
    np.testing.assert_allclose(
        surface.hessian_vector_product(v), h @ v, atol=1e-4 * np.abs(h @ v).max()
    )


def test_lanczos_finds_the_exact_spectrum_extremes_on_a_small_model():
    model, x, y = sinc_model()
    model.fit(
        x, y, batch_size=16, epochs=10, verbose=0
    )  # away from the initialisation's symmetric spectrum
    surface = LossSurface(model, x, y)
    exact_values, exact_vectors = np.linalg.eigh(surface.hessian())
    values, vectors = surface.extreme_eigenpairs(k=2, tol=1e-6)
    expected = np.concatenate([exact_values[:2], exact_values[-2:]])
    np.testing.assert_allclose(values, expected, atol=1e-4 * np.abs(exact_values).max())
    for i, j in [(0, 0), (-1, -1)]:  # the extreme eigenvectors agree up to sign
        assert abs(vectors[:, i] @ exact_vectors[:, j]) > 0.999


def test_exact_hessian_refuses_large_models():
    model, x, y = sinc_model(hidden=(32, 32))
    with pytest.raises(ValueError, match="max_parameters"):
        LossSurface(model, x, y).hessian(max_parameters=100)


# ---- classification and escape -------------------------------------------------------------------


def rotated(eigenvalues, seed=0):
    """A hand-made symmetric Hessian Q diag(λ) Qᵀ."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigenvalues),) * 2))
    return q @ np.diag(eigenvalues) @ q.T


@pytest.mark.parametrize(
    "eigenvalues, gradient_norm, kind, ratio, minimum_like",
    [
        ([1.0, 2.0, 3.0], 1e-5, "local minimum", 1.0, True),
        ([-1.0, -2.0, -0.1], 1e-5, "local maximum", 0.0, False),
        (
            [2.0, -1.0, 3.0],
            1e-5,
            "saddle point",
            2 / 3,
            True,
        ),  # the homework rule calls it minimum-like
        ([2.0, -1.0, -3.0, 1.0], 1e-5, "saddle point", 0.5, False),  # ratio must be > 0.5, not ≥
        ([1.0, 0.0, 2.0], 1e-5, "flat (second order cannot tell)", 2 / 3, True),
        ([1.0, 2.0, 3.0], 2e-3, "not critical", 1.0, False),  # ‖g‖ ≥ 1e-3
    ],
)
def test_classify_critical_point_on_hand_made_hessians(
    eigenvalues, gradient_norm, kind, ratio, minimum_like
):
    # a rotated exact zero comes back as ±1e-16; keep the flat case's zero exact
    spectrum = (
        np.linalg.eigvalsh(rotated(eigenvalues))
        if 0.0 not in eigenvalues
        else np.array(eigenvalues)
    )
    point = classify_critical_point(spectrum, gradient_norm)
    assert point.kind == kind
    assert point.minimum_ratio == pytest.approx(ratio)
    assert point.minimum_like is minimum_like


def test_escape_direction_lowers_the_loss_of_a_saddle():
    surface, q = quadratic([-2.0, -0.5, 1.0, 3.0])
    values, vectors = np.linalg.eigh(surface.hessian())
    assert classify_critical_point(values, surface.gradient_norm()).kind == "saddle point"
    u = escape_direction(values, vectors)
    assert abs(u @ q[0]) == pytest.approx(1.0, abs=1e-5)  # q₀ carries λ = -2
    steps = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(
        surface.loss_along(u, steps), 0.5 * -2.0 * steps**2, atol=1e-5
    )  # ½λt²
    assert surface.value() == 0.0  # the weights were put back
    assert escape_direction([1.0, 2.0], np.eye(2)) is None


@pytest.mark.parametrize(
    "method, steps, factor", [("levenberg-marquardt", 15, 0.5), ("adam", 60, 0.99)]
)
def test_minimize_gradient_norm_drives_the_gradient_down(method, steps, factor):
    model, x, y = sinc_model(hidden=(4, 4))
    model.fit(x, y, batch_size=8, epochs=12, verbose=0)
    surface = LossSurface(model, x, y)
    start = surface.gradient_norm()
    norms = surface.minimize_gradient_norm(steps, method=method)
    assert len(norms) == steps + 1 and norms[0] == start
    assert norms[-1] < factor * norms[0]
    assert surface.gradient_norm() == pytest.approx(
        norms[-1], rel=1e-5
    )  # the model holds the final weights


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: classify_critical_point([], 0.0), "eigenvalues"),
        (lambda: classify_critical_point([1.0], -1.0), "gradient_norm"),
        (lambda: classify_critical_point([1.0], 0.0, gradient_tol=0), "gradient_tol"),
        (lambda: classify_critical_point([1.0], 0.0, ratio_threshold=1.5), "ratio_threshold"),
        (lambda: escape_direction([1.0, 2.0], np.eye(3)), "eigenvectors"),
        (lambda: minimum_ratio([]), "eigenvalues"),
        (lambda: quadratic([1.0, 2.0])[0].extreme_eigenpairs(k=0), "k"),
        (lambda: quadratic([1.0, 2.0, 3.0])[0].extreme_eigenpairs(k=1, tol=0), "tol"),
        (lambda: quadratic([1.0, 2.0])[0].minimize_gradient_norm(-1), "steps"),
        (lambda: quadratic([1.0, 2.0])[0].minimize_gradient_norm(1, method="sgd"), "method"),
        (lambda: quadratic([1.0, 2.0])[0].set_weights(np.zeros(3)), "theta"),
        (
            lambda: LossSurface(sinc_model()[0], np.zeros((2, 1)), np.zeros((2, 1)), loss=["mse"]),
            "loss",
        ),
        (lambda: CriticalPointLogger("/tmp", None, None, every=0), "every"),
        (
            lambda: CriticalPointLogger("/tmp", None, None, exact_max_parameters=-1),
            "exact_max_parameters",
        ),
    ],
)
def test_bad_arguments_name_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


# ---- the callback --------------------------------------------------------------------------------


def read_scalars(log_dir):
    """{tag: [(step, value), ...]} from every event file in ``log_dir``."""
    return events.scalars(log_dir, recursive=False)


@pytest.mark.parametrize("exact_max_parameters", [2000, 0], ids=["exact", "lanczos"])
def test_callback_writes_the_scalars(tmp_path, exact_max_parameters):
    model, x, y = sinc_model()
    logger = CriticalPointLogger(tmp_path, x, y, every=2, exact_max_parameters=exact_max_parameters)
    model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[logger])
    scalars = read_scalars(str(tmp_path))
    names = ["gradient_norm", "min_eigenvalue", "max_eigenvalue"] + ["minimum_ratio"] * (
        exact_max_parameters > 0
    )
    assert sorted(scalars) == sorted(f"critical/{n}" for n in names)
    assert [epoch for epoch, _ in logger.history] == [2, 4]
    for name in names:
        logged = sorted(scalars[f"critical/{name}"])
        assert [step for step, _ in logged] == [2, 4]
        np.testing.assert_allclose(
            [v for _, v in logged], [values[name] for _, values in logger.history], rtol=1e-6
        )
    # the last logged values describe the final weights
    exact = np.linalg.eigvalsh(LossSurface(model, x, y).hessian())
    last = logger.history[-1][1]
    scale = np.abs(exact).max()
    assert last["min_eigenvalue"] == pytest.approx(exact[0], abs=1e-3 * scale)
    assert last["max_eigenvalue"] == pytest.approx(exact[-1], abs=1e-3 * scale)
    assert last["gradient_norm"] > 0


# ---- the tutorial --------------------------------------------------------------------------------


def test_tutorial_smoke_mode(smoke_run):
    import json

    run_dir = smoke_run("l04-critical-points")
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    assert set(state["variants"]) == {"net-00", "net-01", "net-02"}
    rows = state["tables"]["Every network at its end point"]
    for (
        row
    ) in rows:  # each end point went through the gradient-norm minimisation and was classified
        assert row["‖g‖ at the end"] <= row["‖g‖ after Adam"]
        assert row["λ_min"] <= row["λ_max"] and 0 <= row["minimum ratio"] <= 1
    assert (run_dir / "minimum_ratio_vs_loss.png").exists()
    assert "critical/minimum_ratio" in read_scalars(str(run_dir / "net-00" / "train"))
    assert all(row["real negative curvature"] in ("yes", "no") for row in rows)
    example = state["verdicts"][0]
    assert "w1·w2·x" in example["claim"] and "saddle point" in example["measured"]
    if any(row["λ_min"] < 0 for row in rows):
        (escape,) = next(v for k, v in state["tables"].items() if k.startswith("Escaping"))
        assert escape["decrease"] > 0  # stepping along the escape direction lowered the loss
        assert (run_dir / "escape_direction.png").exists()
