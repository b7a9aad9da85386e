"""Cross-validation helper on a tiny model: folds from KFold, the table, and the choice."""

import keras
import numpy as np
import pytest
from sklearn.model_selection import KFold

from mlcourse.analysis.cross_validation import CrossValidation, cross_validate


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    y = (x @ np.array([[2.0], [-1.0]]) + 0.05 * rng.normal(size=(n, 1))).astype("float32")
    return x, y


def _linear(learning_rate):
    def build():  # eager: for a few full-batch steps that is faster than tracing a graph
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate),
            loss="mse",
            metrics=["mae"],
            run_eagerly=True,
        )
        return model

    return build


def test_chooses_the_model_that_generalises_and_tabulates_every_fold():
    x, y = _data()
    calls = []

    def spy_fit(variant, model, x_train, y_train, **kwargs):
        calls.append((variant, len(x_train), len(kwargs["validation_data"][0])))
        return model.fit(x_train, y_train, **kwargs)

    result = cross_validate(
        {"trained": _linear(0.3), "barely-moves": _linear(1e-4)},
        x,
        y,
        n_folds=3,
        epochs=4,
        batch_size=60,
        fit=spy_fit,
        verbose=0,
    )
    assert result.best == "trained"
    assert [c[0] for c in calls] == [
        f"{m}-fold{k}" for k in (1, 2, 3) for m in ("trained", "barely-moves")
    ]
    assert all(train + val == len(x) for _, train, val in calls)
    assert {row["fold"] for row in result.rows} == {1, 2, 3}
    assert {"train_loss", "val_loss", "val_mae"} <= set(result.rows[0])
    table = result.fold_table()
    assert [row["fold"] for row in table] == [1, 2, 3, "mean"]
    assert table[-1]["trained"] == pytest.approx(np.mean(result.scores("trained")))
    assert table[-1]["trained"] < 0.5 * table[-1]["barely-moves"]
    summary = {row["model"]: row for row in result.summary()}
    assert summary["trained"]["std val_loss"] >= 0


def test_folds_are_sklearn_kfold_with_the_seed():
    x, y = _data(n=12)
    seen = []

    def spy_fit(variant, model, x_train, y_train, validation_data, **kwargs):
        seen.append(sorted(validation_data[0][:, 0].tolist()))
        return model.fit(x_train, y_train, validation_data=validation_data, **kwargs)

    cross_validate({"m": _linear(0.1)}, x, y, n_folds=3, epochs=1, seed=7, fit=spy_fit, verbose=0)
    expected = [
        sorted(x[val, 0].tolist()) for _, val in KFold(3, shuffle=True, random_state=7).split(x)
    ]
    assert seen == expected


def test_same_seed_same_numbers():
    x, y = _data(n=24)
    runs = [
        cross_validate({"m": _linear(0.05)}, x, y, n_folds=2, epochs=2, batch_size=12, verbose=0)
        for _ in range(2)
    ]
    assert runs[0].rows == runs[1].rows


def test_score_other_than_loss():
    rows = [
        {"model": "a", "fold": 1, "val_loss": 1.0, "val_mae": 0.1},
        {"model": "b", "fold": 1, "val_loss": 0.5, "val_mae": 0.2},
    ]
    assert CrossValidation(rows).best == "b"
    assert CrossValidation(rows, score="val_mae").best == "a"


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"n_folds": 1}, "n_folds"),
        ({"n_folds": 100}, "n_folds"),
        ({"score": "loss"}, "score"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    x, y = _data(n=10)
    with pytest.raises(ValueError, match=argument):
        cross_validate({"m": _linear(0.1)}, x, y, epochs=1, **{"n_folds": 2, **kwargs})
    with pytest.raises(ValueError, match="builders"):
        cross_validate({}, x, y, epochs=1)
