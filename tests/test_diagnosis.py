"""The lecture-3 diagnosis helper: one hand-made pair of histories per branch of the flow chart."""

import pytest

from mlcourse.analysis.diagnosis import BRANCHES, Diagnosis, diagnose


def history(train, val):
    return {"loss": list(train), "val_loss": list(val)}


class FakeKerasHistory:
    def __init__(self, train, val):
        self.history = history(train, val)


TARGET = 0.30

CASES = {
    # both stuck high; the larger one is lower but still above the target
    "model bias": (
        history([1.2, 1.0, 0.9, 0.85], [1.2, 1.0, 0.92, 0.88]),
        history([1.1, 0.8, 0.65, 0.6], [1.1, 0.82, 0.68, 0.64]),
    ),
    # the deeper model is worse on the TRAINING data than the shallow one (the 20 vs 56 layers plot)
    "optimization": (
        history([1.0, 0.5, 0.3, 0.2], [1.0, 0.55, 0.35, 0.25]),
        history([2.3, 1.6, 1.2, 1.1], [2.3, 1.6, 1.25, 1.15]),
    ),
    # training loss falls to ~0, validation goes down then up; the small model generalises
    "overfitting": (
        history([0.9, 0.4, 0.25, 0.22], [0.9, 0.45, 0.3, 0.28]),
        history([0.8, 0.3, 0.1, 0.02], [0.8, 0.35, 0.4, 0.7]),
    ),
    # both fit the training data; both have the same large gap (the validation data differ)
    "mismatch": (
        history([0.8, 0.4, 0.25, 0.2], [1.9, 1.7, 1.7, 1.75]),
        history([0.8, 0.3, 0.15, 0.1], [1.9, 1.7, 1.72, 1.8]),
    ),
    "good fit": (
        history([0.8, 0.4, 0.25, 0.22], [0.8, 0.45, 0.3, 0.28]),
        history([0.7, 0.3, 0.15, 0.12], [0.7, 0.32, 0.22, 0.2]),
    ),
}


@pytest.mark.parametrize("branch", BRANCHES)
def test_each_branch_is_recognised(branch):
    small, large = CASES[branch]
    result = diagnose(small, large, target_loss=TARGET)
    assert isinstance(result, Diagnosis)
    assert result.branch == branch, str(result)
    assert result.reason and result.remedy
    assert str(result).startswith(branch)


def test_reason_quotes_the_numbers():
    small, large = CASES["optimization"]
    result = diagnose(small, large, target_loss=TARGET)
    assert "1.1" in result.reason and "0.2" in result.reason
    assert result.figures["large_train"] == pytest.approx(1.1)
    assert result.figures["small_train"] == pytest.approx(0.2)


def test_overfitting_reason_mentions_the_rise():
    result = diagnose(*CASES["overfitting"], target_loss=TARGET)
    assert "rose from 0.35 to 0.7" in result.reason


def test_accepts_keras_history_objects():
    small, large = CASES["mismatch"]
    result = diagnose(
        FakeKerasHistory(small["loss"], small["val_loss"]),
        FakeKerasHistory(large["loss"], large["val_loss"]),
        target_loss=TARGET,
    )
    assert result.branch == "mismatch"


def test_tolerance_decides_a_near_tie_in_training_loss():
    small = history([0.5, 0.2], [0.5, 0.25])
    large = history([0.5, 0.21], [0.5, 0.25])  # 5 % worse than the small model
    assert diagnose(small, large, target_loss=TARGET, tolerance=0.1).branch == "good fit"
    assert diagnose(small, large, target_loss=TARGET, tolerance=0.01).branch == "optimization"


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"target_loss": 0}, "target_loss"), ({"target_loss": TARGET, "tolerance": 1.5}, "tolerance")],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        diagnose(*CASES["good fit"], **kwargs)


def test_missing_or_nan_history_is_rejected():
    with pytest.raises(ValueError, match="val_loss"):
        diagnose({"loss": [1.0]}, CASES["good fit"][1], target_loss=TARGET)
    with pytest.raises(ValueError, match="finite"):
        diagnose(history([1.0, float("nan")], [1.0, 1.0]), CASES["good fit"][1], target_loss=TARGET)
