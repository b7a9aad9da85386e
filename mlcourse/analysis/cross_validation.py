"""N-fold cross-validation to choose among models, with scikit-learn's ``KFold`` doing the
splitting.

ML2021 L03, "N-fold cross validation": split the training set into ``N`` folds; for each fold train
on the other ``N − 1`` and validate on it; choose the model with the lowest mean validation loss,
then retrain it on all the training data. The public test set is never used to choose::

    for model m, fold k:   L_va(m, k) = loss of m trained on D∖D_k, measured on D_k
    mean(m) = (1/N) Σ_k L_va(m, k)        m* = argmin_m mean(m)

``sklearn.model_selection.KFold`` is the well-kept splitter (shuffled with a seed here); this module
only trains and tabulates.
"""

import dataclasses
import statistics

import keras
import numpy as np
from sklearn.model_selection import KFold

__all__ = ["CrossValidation", "cross_validate"]


def _keras_fit(variant, model, x, y, **kwargs):
    """The default trainer: plain ``model.fit`` (a tutorial passes ``run.fit`` to log each fold)."""
    return model.fit(x, y, **kwargs)


@dataclasses.dataclass
class CrossValidation:
    """Results of ``cross_validate``.

    Attributes:
        rows: one dict per (model, fold): ``model``, ``fold``, ``train_loss``, ``val_loss`` and any
            other final ``val_*`` metric of the history.
        score: the validation key the models were ranked by.
    """

    rows: list
    score: str = "val_loss"

    def scores(self, model):
        return [row[self.score] for row in self.rows if row["model"] == model]

    def models(self):
        return list(dict.fromkeys(row["model"] for row in self.rows))

    def summary(self):
        """One row per model: mean and standard deviation of the score over the folds."""
        rows = []
        for model in self.models():
            scores = self.scores(model)
            spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
            rows.append(
                {
                    "model": model,
                    f"mean {self.score}": statistics.fmean(scores),
                    f"std {self.score}": spread,
                }
            )
        return rows

    @property
    def best(self):
        """The model with the lowest mean score."""
        return min(self.models(), key=lambda model: statistics.fmean(self.scores(model)))

    def fold_table(self):
        """One row per fold, one column per model: the score of each model on each fold."""
        folds = sorted({row["fold"] for row in self.rows})
        table = []
        for fold in folds:
            row = {"fold": fold}
            row.update({r["model"]: r[self.score] for r in self.rows if r["fold"] == fold})
            table.append(row)
        table.append(
            {"fold": "mean", **{m: statistics.fmean(self.scores(m)) for m in self.models()}}
        )
        return table


def cross_validate(
    builders,
    x,
    y,
    n_folds=3,
    *,
    epochs,
    batch_size=32,
    seed=0,
    fit=None,
    score="val_loss",
    **fit_kwargs,
):
    """Train every model on every fold split and collect the validation results.

    Args:
        builders: ``{name: build}``; ``build()`` returns a fresh *compiled* Keras model. Each
            (model, fold) pair starts from ``keras.utils.set_random_seed(seed + fold)``, so all
            models see the same initial randomness on a given fold.
        x, y: the training data (arrays with the samples on the first axis).
        n_folds: ``N`` (at least 2).
        epochs, batch_size: passed to the trainer.
        seed: shuffles the folds (``KFold(shuffle=True, random_state=seed)``) and seeds the models.
        fit: the trainer, called as
            ``fit(variant, model, x, y, epochs=..., batch_size=..., validation_data=...,
            **fit_kwargs)`` and returning a ``History``; default ``model.fit``. Pass ``run.fit`` to
            log every fold to TensorBoard (variant ``"<name>-fold<k>"``).
        score: the history key to rank by (lower is better), default ``"val_loss"``.
        **fit_kwargs: more arguments for the trainer (e.g. ``verbose=0``).

    Returns:
        A ``CrossValidation``.
    """
    if not builders:
        raise ValueError("builders must name at least one model, got none")
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or not 2 <= n_folds <= len(x):
        raise ValueError(
            f"n_folds must be an integer in [2, {len(x)}] (the number of samples), got {n_folds!r}"
        )
    if not score.startswith("val_"):
        raise ValueError(f"score must be a validation metric such as 'val_loss', got {score!r}")
    fit = fit or _keras_fit
    x, y = np.asarray(x), np.asarray(y)
    splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    rows = []
    for fold, (train, val) in enumerate(splitter.split(x), start=1):
        for name, build in builders.items():
            keras.utils.set_random_seed(seed + fold)
            history = fit(
                f"{name}-fold{fold}",
                build(),
                x[train],
                y[train],
                epochs=epochs,
                batch_size=batch_size,
                validation_data=(x[val], y[val]),
                **fit_kwargs,
            )
            final = {key: float(values[-1]) for key, values in history.history.items()}
            if score not in final:
                raise ValueError(f"score {score!r} is not in the history (keys: {sorted(final)})")
            row = {"model": name, "fold": fold, "train_loss": final["loss"]}
            row.update({key: value for key, value in final.items() if key.startswith("val_")})
            rows.append(row)
    return CrossValidation(rows, score)
