"""Which branch of lecture 3's flow chart applies? Read it off the histories of a small and a large
model.

ML2021 L03, "the training-strategy playbook" (機器學習任務攻略). The lecture's flow chart::

    loss on the TRAINING data large?
    ├─ yes ─ does a larger model lower it?
    │        ├─ yes, but still large ............ model bias    → a more flexible model
    │        └─ no, the larger one is WORSE ..... optimization  → a better optimiser (L04-L08)
    └─ no ── loss on the VALIDATION data large?
             ├─ yes, and the gap grows with size . overfitting   → more data, augmentation,
             constraints ├─ yes, even the small model's gap .. mismatch      → the data, not the
             model (HW11) └─ no ............................... good fit

The comparisons, with ``L_tr``, ``L_va`` the best training loss and the final validation loss of a
model, ``s`` / ``ℓ`` the small / large model, ``τ`` the acceptable loss and ``ε`` a relative
tolerance:

    optimization  L_tr(ℓ) > (1 + ε) · L_tr(s)           a larger model can express everything the
                                                         smaller one can, so only training failed it
    model bias    L_tr(ℓ) > τ                            still too high after growing the model
    overfitting   L_va(ℓ) > τ  and  gap(s) < ½ gap(ℓ)    gap = L_va − L_tr grows with capacity
    mismatch      L_va(ℓ) > τ  and  gap(s) ≥ ½ gap(ℓ)    the small model cannot overfit much, yet
    its
                                                         gap is as large: the val data differ
    good fit      otherwise

``τ`` comes from the task (the lecture: start with a simple model, e.g. logistic regression, and use
it as the yardstick). These are heuristics read off two histories, as in the lecture; they say where
to look first, not a proof.
"""

import dataclasses
import math

__all__ = ["BRANCHES", "Diagnosis", "diagnose"]

BRANCHES = ("model bias", "optimization", "overfitting", "mismatch", "good fit")

REMEDIES = {
    "model bias": "make the model more flexible: more features, more units or layers",
    "optimization": (
        "train better, not bigger: normalisation, residual connections, adaptive optimisers"
    ),
    "overfitting": (
        "more (or augmented) data, fewer parameters / sharing, early stopping, L2, dropout"
    ),
    "mismatch": "check that training and validation data come from the same distribution; "
    "more training will not help",
    "good fit": "nothing to fix: keep this model and look at the test data once",
}


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """The verdict: ``branch`` (one of ``BRANCHES``), ``reason`` with the numbers, ``remedy``.

    ``figures`` holds the numbers the decision used (best training loss, final validation loss and
    gap of each model), for tables.
    """

    branch: str
    reason: str
    remedy: str
    figures: dict

    def __str__(self):
        return f"{self.branch}: {self.reason} -> {self.remedy}"


def _losses(history, key):
    history = getattr(history, "history", history)  # a keras History or its dict
    if key not in history or not len(history[key]):
        raise ValueError(f"history must have a non-empty {key!r} list, got keys {sorted(history)}")
    values = [float(v) for v in history[key]]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"history[{key!r}] must be finite, got {values}")
    return values


def _summary(history, loss_key, val_key):
    train, val = _losses(history, loss_key), _losses(history, val_key)
    return {"train": min(train), "val": val[-1], "val_best": min(val), "gap": val[-1] - train[-1]}


def diagnose(small, large, target_loss, tolerance=0.05, loss_key="loss", val_key="val_loss"):
    """Say which branch of the lecture-3 flow chart applies, and why.

    Args:
        small: the smaller model's ``History`` (or its ``.history`` dict) with training and
            validation losses per epoch.
        large: the same for the larger model (more units or layers), trained on the same data.
        target_loss: the loss you would accept (``τ``), e.g. a simple baseline's.
        tolerance: relative slack ``ε`` before a difference in training loss counts.
        loss_key: the history key of the training loss.
        val_key: the history key of the validation loss.

    Returns:
        A ``Diagnosis``.
    """
    if not (isinstance(target_loss, (int, float)) and target_loss > 0):
        raise ValueError(f"target_loss must be a positive number, got {target_loss!r}")
    if not (isinstance(tolerance, (int, float)) and 0 <= tolerance < 1):
        raise ValueError(f"tolerance must be a number in [0, 1), got {tolerance!r}")
    s, ell = _summary(small, loss_key, val_key), _summary(large, loss_key, val_key)
    figures = {
        "target": target_loss,
        **{f"small_{k}": v for k, v in s.items()},
        **{f"large_{k}": v for k, v in ell.items()},
    }

    def verdict(branch, reason):
        return Diagnosis(branch, reason, REMEDIES[branch], figures)

    if ell["train"] > (1 + tolerance) * s["train"]:
        return verdict(
            "optimization",
            f"the larger model's best training loss {ell['train']:.4g} is higher "
            f"than the smaller model's {s['train']:.4g}; it could express the smaller model, "
            "so training, not capacity, failed it (not overfitting: this is the training data)",
        )
    if ell["train"] > target_loss:
        return verdict(
            "model bias",
            f"even the larger model's training loss {ell['train']:.4g} is above the "
            f"target {target_loss:.4g} (the smaller model reached {s['train']:.4g}): the model "
            "family cannot fit the training data well enough",
        )
    if ell["val"] > target_loss:
        if s["gap"] < 0.5 * ell["gap"]:
            rising = ell["val"] > (1 + tolerance) * ell["val_best"]
            trend = (
                f"; its validation loss rose from {ell['val_best']:.4g} to {ell['val']:.4g} while "
                "training loss fell"
                if rising
                else ""
            )
            return verdict(
                "overfitting",
                f"training loss {ell['train']:.4g} is fine but validation loss "
                f"{ell['val']:.4g} is above the target {target_loss:.4g}; the train-val gap grows "
                f"with size ({s['gap']:.4g} -> {ell['gap']:.4g}){trend}",
            )
        return verdict(
            "mismatch",
            f"training loss {ell['train']:.4g} is fine but validation loss "
            f"{ell['val']:.4g} is above the target {target_loss:.4g}, and the smaller model has "
            f"as large a gap ({s['gap']:.4g} vs {ell['gap']:.4g}): not capacity, the "
            "validation data look different from the training data",
        )
    return verdict(
        "good fit",
        f"training loss {ell['train']:.4g} and validation loss {ell['val']:.4g} are "
        f"both within the target {target_loss:.4g}",
    )
