"""mlcourse.analysis.attention_cost (ML2021 L11): the slope fit, and measure() on tiny lengths."""

import numpy as np
import pytest

from mlcourse.analysis.attention_cost import KINDS, attention_layer, fit_slope, measure


def test_fit_slope_recovers_power_laws():
    lengths = [64, 128, 256, 512]
    slope, intercept = fit_slope(lengths, [3e-6 * t**2 for t in lengths])
    assert slope == pytest.approx(2.0) and np.exp(intercept) == pytest.approx(3e-6)
    assert fit_slope(lengths, [5.0 * t for t in lengths])[0] == pytest.approx(1.0)


def test_fit_slope_min_length_drops_the_flat_start():
    lengths = [8, 16, 32, 64, 128, 256]
    values = [10.0 + 1e-2 * t**2 for t in lengths]  # fixed cost first, quadratic later
    assert fit_slope(lengths, values)[0] < 1.5
    assert fit_slope(lengths, values, min_length=128)[0] > 1.9


@pytest.mark.parametrize(
    "lengths, values", [([64], [1.0]), ([64, 64], [1.0, 2.0]), ([64, 128], [0.0, 1.0])]
)
def test_fit_slope_rejects_what_cannot_be_fitted(lengths, values):
    with pytest.raises(ValueError):
        fit_slope(lengths, values)


@pytest.mark.parametrize("kind", KINDS)
def test_measure_gives_one_sane_row_per_length(kind):
    rows = measure(kind, [4, 8], units=8, heads=2, repeats=2, warmup=1)
    assert [r["length"] for r in rows] == [4, 8] and all(r["kind"] == kind for r in rows)
    for row in rows:
        assert 0 < row["seconds"] < 10 and 0 <= row["cpu_seconds"] < 10
        assert isinstance(row["peak_bytes"], int) and row["peak_bytes"] >= 0 and row["repeats"] == 2


def test_measure_forward_only_runs_too():
    rows = measure("linear", [8], units=8, heads=2, repeats=1, backward=False)
    assert rows[0]["seconds"] > 0


def test_memory_reading_grows_quadratically_for_softmax_and_linearly_for_linear():
    # the allocator reading is real: doubling T quadruples softmax's step memory, doubles linear's
    softmax = measure("softmax", [512, 1024], units=32, heads=4, repeats=3)
    linear = measure("linear", [512, 1024], units=32, heads=4, repeats=3)
    assert (
        softmax[0]["peak_bytes"] > 4 * 512 * 512 * 4
    )  # at least one (batch, heads, T, T) float32 matrix
    assert 3.0 < softmax[1]["peak_bytes"] / softmax[0]["peak_bytes"] < 5.0
    assert 1.5 < linear[1]["peak_bytes"] / linear[0]["peak_bytes"] < 2.8


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="kind must be one of"):
        attention_layer("performer", 8, 2)
    with pytest.raises(ValueError, match="causal"):
        attention_layer("recurrent", 8, 2, causal=False)
    with pytest.raises(ValueError, match="repeats"):
        measure("linear", [8], repeats=0)
    with pytest.raises(ValueError, match="lengths"):
        measure("linear", [])
