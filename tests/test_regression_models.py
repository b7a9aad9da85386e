"""Lecture 2 model builders: the seed average and the parameter budget."""

import keras
import numpy as np
import pytest

from mlcourse.models import regression


def _members(count, k=5):
    members = []
    for seed in range(count):
        keras.utils.set_random_seed(seed)
        members.append(regression.relu_regressor(k, 2, 8, name=f"member_{seed}"))
    return members


def test_average_of_is_the_mean_of_the_members():
    members = _members(3)
    x = np.random.default_rng(0).normal(size=(16, 5)).astype("float32")
    average = regression.average_of(members)
    expected = np.mean([member.predict(x, verbose=0) for member in members], axis=0)
    np.testing.assert_allclose(average.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert average.count_params() == sum(member.count_params() for member in members)


def test_average_mae_is_at_most_the_members_mean_mae():
    members = _members(4)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 5)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    member_maes = [np.mean(np.abs(member.predict(x, verbose=0) - y)) for member in members]
    average_mae = np.mean(np.abs(regression.average_of(members).predict(x, verbose=0) - y))
    assert average_mae <= np.mean(member_maes) + 1e-6
    assert average_mae < max(member_maes)


def test_average_of_one_model_and_of_none():
    (member,) = _members(1)
    x = np.ones((2, 5), "float32")
    np.testing.assert_allclose(
        regression.average_of([member]).predict(x, verbose=0), member.predict(x, verbose=0)
    )
    with pytest.raises(ValueError, match="models must hold at least one model"):
        regression.average_of([])


def test_average_of_saves_and_reloads(tmp_path):
    average = regression.average_of(_members(2))
    x = np.random.default_rng(2).normal(size=(4, 5)).astype("float32")
    average.save(tmp_path / "average.keras")
    reloaded = keras.saving.load_model(tmp_path / "average.keras")
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), average.predict(x, verbose=0))


def test_units_for_budget_matches_the_parameter_count():
    for depth in (1, 2, 3, 4):
        width = regression.units_for_budget(28, depth, 3841)
        model = regression.relu_regressor(28, depth, width)
        assert model.count_params() == regression.relu_parameter_count(28, depth, width)
