"""Data loaders: shapes, windows, no leakage, and the checksum failure message."""

import shutil
import sys
import types

import numpy as np
import pytest

from mlcourse.data import fashion_mnist, prepare, series
from mlcourse.data.files import DataFileError, verify


@pytest.mark.parametrize("name, days", [("hyndsight", 365), ("births", 7305), ("chicago", 5698)])
def test_series_load(name, days):
    daily = series.load_series(name)
    assert len(daily) == days and daily.values.dtype == np.float32
    assert np.all(np.diff(daily.dates).astype(int) >= 1)


def test_windows_are_the_previous_k_days():
    values = np.arange(100, dtype="float32")
    x, y, targets = series.make_windows(values, 7, first_target=10)
    assert x.shape == (90, 7) and targets[0] == 10
    np.testing.assert_array_equal(x[0], values[3:10])
    np.testing.assert_array_equal(y, values[10:])


def test_split_is_chronological_and_shared_across_k():
    values = series.load_series().values
    splits = [series.window_split(values, k, max_lag=56) for k in (1, 7, 28, 56)]
    for split in splits:
        assert (
            split.targets_train.max()
            < split.targets_val.min()
            <= split.targets_val.max()
            < split.targets_test.min()
        )
        np.testing.assert_array_equal(split.targets_test, splits[0].targets_test)
        np.testing.assert_allclose(
            split.scaler.inverse(split.y_test), values[split.targets_test], rtol=1e-5
        )


def test_no_leakage_from_validation_or_test_days():
    values = series.load_series().values.copy()
    before = series.window_split(values, 7)
    values[before.targets_val.min() :] *= 100.0  # change every validation and test day
    after = series.window_split(values, 7)
    assert after.scaler == before.scaler
    np.testing.assert_array_equal(after.x_train, before.x_train)
    np.testing.assert_array_equal(after.y_train, before.y_train)
    assert not np.allclose(after.y_test, before.y_test)


def test_holding_back_the_test_days_leaves_no_test_day():
    daily = series.load_series()
    full = series.window_split(daily.values, 28)
    held = daily.without_last(len(full.targets_test))
    assert (
        len(held) == len(daily) - len(full.targets_test)
        and held.dates[-1] < daily.dates[full.targets_test.min()]
    )
    development = series.window_split(held.values, 28)
    assert development.targets_test.max() < full.targets_test.min()
    assert len(daily.without_last(0)) == len(daily)
    with pytest.raises(ValueError, match="days must be between 0 and 363"):
        daily.without_last(364)


def test_naive_forecast():
    values = np.arange(20.0)
    np.testing.assert_array_equal(series.naive_forecast(values, np.array([7, 10]), 7), [0.0, 3.0])
    with pytest.raises(ValueError, match="lag"):
        series.naive_forecast(values, np.array([3]), 7)


def test_unknown_series_is_rejected():
    with pytest.raises(ValueError, match="name must be one of"):
        series.load_series("youtube")


def test_fashion_mnist_loads_all_70k():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and set(np.unique(y_train)) == set(range(10))
    assert len(y_test) == 10000


def test_truncated_file_gives_a_one_line_fix(tmp_path):
    source = fashion_mnist.find_dir()
    for name in fashion_mnist.FILES:
        shutil.copy(source / name, tmp_path / name)
    victim = tmp_path / "t10k-labels-idx1-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.raises(DataFileError) as error:
        fashion_mnist.load(tmp_path)
    message = str(error.value)
    assert "checksum mismatch" in message and "make setup" in message and "\n" not in message


def test_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(DataFileError, match="missing data file .*: run this"):
        verify(tmp_path / "nothing.gz", "0" * 64, "run this")


def test_data_check_tells_a_corrupt_file_from_a_missing_one(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("not the real data")

    def corrupt(allow_download=False):
        return verify(bad, "0" * 64, "run `make setup`")

    def missing(allow_download=False):
        return verify(tmp_path / "absent.csv", "0" * 64, "run `make setup`")

    monkeypatch.setitem(sys.modules, "fake_corrupt", types.SimpleNamespace(prepare=corrupt))
    monkeypatch.setitem(sys.modules, "fake_missing", types.SimpleNamespace(prepare=missing))
    monkeypatch.setattr(
        prepare, "DATASETS", [("one", "fake_corrupt", "a"), ("two", "fake_missing", "b")]
    )
    assert prepare.run(check_only=True) == 1
    corrupt_line, missing_line = capsys.readouterr().out.splitlines()
    assert corrupt_line.startswith("CORRUPT") and "checksum mismatch" in corrupt_line
    assert missing_line.startswith("MISSING") and "make setup" in missing_line
