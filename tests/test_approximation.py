"""mlcourse.analysis.approximation: hard-sigmoid sums built by hand (ML2021 L02, slides 23-30)."""

import dataclasses
import itertools

import numpy as np
import pytest

from mlcourse.analysis import approximation as approx

A, B = 3.0, 2.0


def smooth_2d(x):
    """sin(3x)·cos(2y): not a sum of functions of x and y alone, so one ridge direction is not
    enough.
    """
    return np.sin(A * x[:, 0]) * np.cos(B * x[:, 1])


def wiggle_1d(x):
    return np.sin(3 * x[:, 0]) + 0.3 * x[:, 0] ** 2


# ---- 1-D, slides 23-26 ---------------------------------------------------------------------------
def test_piecewise_linear_interpolates_knots_and_meets_the_h2_bound():
    units = 10
    weights = approx.piecewise_linear(wiggle_1d, units, low=-1, high=1)
    assert weights.units == units and weights.kernel.shape == (1, units)
    knots = np.linspace(-1, 1, units + 1)[:, None]
    np.testing.assert_allclose(weights(knots), wiggle_1d(knots), atol=1e-12)
    h, second_derivative = 2 / units, 9 + 0.6  # |f''| = |−9 sin 3x + 0.6| ≤ 9.6
    assert approx.errors(weights, wiggle_1d, -1, 1, 1)["max"] <= h**2 / 8 * second_derivative


def test_1d_max_error_shrinks_like_one_over_units_squared():
    error = [
        approx.errors(approx.piecewise_linear(wiggle_1d, n), wiggle_1d, -1, 1, 1)["max"]
        for n in (8, 16, 32)
    ]
    assert error[0] > error[1] > error[2]
    assert error[0] / error[2] > 10  # O(h²): quartered per doubling, 16 ideally


# ---- 2-D / n-D local bumps, two hidden layers ----------------------------------------------------
def test_local_bumps_max_error_shrinks_as_units_grow_on_a_smooth_2d_function():
    rows = []
    for cells in (2, 4, 8, 16):
        weights = approx.local_bumps(smooth_2d, cells, low=-1, high=1, dim=2)
        rows.append((weights.units, approx.errors(weights, smooth_2d, -1, 1, 2, points=201)["max"]))
    units, error = zip(*rows, strict=True)
    assert list(units) == [2 * m + (m + 1) ** 2 - 1 for m in (2, 4, 8, 16)]
    assert all(a > b for a, b in itertools.pairwise(error)), rows
    assert error[-1] < 0.05 and error[0] / error[-1] > 20, rows


def test_local_bumps_meet_the_documented_error_bound():
    for cells in (4, 8):
        h = 2 / cells
        bound = h**2 / 8 * (A**2 + B**2) + h**2 / 4 * A * B
        weights = approx.local_bumps(smooth_2d, cells, low=-1, high=1, dim=2)
        assert approx.errors(weights, smooth_2d, -1, 1, 2, points=201)["max"] <= bound


def test_each_knot_gets_a_local_bump_that_is_one_at_its_knot_and_zero_two_cells_away():
    cells, knot = 6, np.array([1.0 / 3.0, -1.0 / 3.0])  # knots every 1/3 on [-1, 1]

    def spike(x):
        return np.all(np.isclose(x, knot), axis=1).astype(float)

    bump = approx.local_bumps(spike, cells, low=-1, high=1, dim=2)
    x = approx.box_grid(-1, 1, 2, 121)
    values = bump(x)
    assert bump(knot[None])[0] == pytest.approx(1.0)
    far = np.any(np.abs(x - knot) >= 2 / cells - 1e-9, axis=1)  # outside the 2h × 2h support
    assert np.abs(values[far]).max() < 1e-12
    assert values.min() >= -1e-12 and values.max() <= 1 + 1e-12


def test_local_bumps_converge_in_3d():
    def f(x):
        return np.sin(x.sum(axis=1)) * np.cos(x[:, 0] * x[:, 2])

    error = [
        approx.errors(approx.local_bumps(f, m, dim=3), f, -1, 1, 3, points=21)["max"]
        for m in (2, 4, 8)
    ]
    assert error[0] > error[1] > error[2] and error[2] < 0.05, error


# ---- one hidden layer, many directions -----------------------------------------------------------
def test_ridge_sum_max_error_shrinks_with_more_directions_and_knots():
    error = []
    for size in (4, 8, 16):
        weights = approx.ridge_sum(smooth_2d, directions=size, knots=size, low=-1, high=1, dim=2)
        assert weights.units == size * size and weights.hidden_layers == 1
        error.append(approx.errors(weights, smooth_2d, -1, 1, 2, points=201)["max"])
    assert error[0] > error[1] > error[2] and error[2] < 0.05, error


def test_one_direction_cannot_represent_a_product():
    """A single ridge direction gives g(x); sin(3x)·cos(2y) varies along y too, so the error stays
    large.
    """
    weights = approx.ridge_sum(smooth_2d, directions=1, knots=64, low=-1, high=1, dim=2)
    assert approx.errors(weights, smooth_2d, -1, 1, 2, points=101)["max"] > 0.5


# ---- the constructions are the lecture's model: load them into SigmoidSum ------------------------
def test_constructions_load_into_sigmoid_sum_with_the_same_outputs():
    x = approx.box_grid(-1.2, 1.2, 2, 41)  # also outside the box, where ramps saturate
    for weights in (approx.ridge_sum(smooth_2d, 6, 6), approx.local_bumps(smooth_2d, 5)):
        model = weights.keras_model()
        np.testing.assert_allclose(
            model.predict(x.astype("float32"), verbose=0)[:, 0], weights(x), atol=1e-5
        )
    line = approx.piecewise_linear(wiggle_1d, 12)
    xs = np.linspace(-1.5, 1.5, 301)[:, None]
    np.testing.assert_allclose(
        line.keras_model().predict(xs.astype("float32"), verbose=0)[:, 0], line(xs), atol=1e-5
    )


# ---- arguments -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: approx.piecewise_linear(wiggle_1d, 0), "units"),
        (lambda: approx.piecewise_linear(wiggle_1d, 4, low=1, high=-1), "low"),
        (lambda: approx.local_bumps(smooth_2d, 2.5), "cells"),
        (lambda: approx.local_bumps(smooth_2d, 4, dim=0), "dim"),
        (lambda: approx.local_bumps(smooth_2d, 100, dim=4), "cells"),
        (lambda: approx.local_bumps("not a function", 4), "f"),
        (lambda: approx.local_bumps(lambda x: np.zeros(3), 4), "f"),
        (lambda: approx.ridge_sum(smooth_2d, 0, 4), "directions"),
        (lambda: approx.ridge_sum(smooth_2d, 4, -1), "knots"),
        (lambda: approx.ridge_sum(wiggle_1d, 3, 4, dim=1), "directions"),
        (lambda: approx.ridge_sum(smooth_2d, 4, 4, samples=0), "samples"),
        (lambda: approx.box_grid(-1, 1, 2, 0), "points"),
    ],
)
def test_bad_arguments_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=rf"^{argument} "):
        make()


def test_without_the_threshold_the_bumps_do_not_converge():
    """Second-layer bias 0 instead of −(k − 1): plain addition of ramps, the cross's arms stay."""
    error = []
    for cells in (4, 8, 16):
        weights = approx.local_bumps(smooth_2d, cells)
        plain = dataclasses.replace(
            weights.second, hidden_bias=np.zeros_like(weights.second.hidden_bias)
        )
        error.append(
            approx.errors(
                dataclasses.replace(weights, second=plain), smooth_2d, -1, 1, 2, points=101
            )["max"]
        )
    assert min(error) > 1.0, error
