"""Battery cases for mlcourse.losses (ML2021 L07)."""

from mlcourse import losses

from battery import BadArg, ObjectCase

CASES = [
    ObjectCase(
        name="CrossEntropy",
        make=lambda: losses.CrossEntropy(from_logits=True, axis=-1, reduction="sum"),
        bad_args=[
            BadArg(lambda: losses.CrossEntropy(from_logits="yes"), "from_logits"),
            BadArg(lambda: losses.CrossEntropy(axis=1.5), "axis"),
            BadArg(lambda: losses.CrossEntropy(reduction="average"), "reduction"),
        ],
    ),
    ObjectCase(
        name="ProbabilityMSE",
        make=lambda: losses.ProbabilityMSE(from_logits=False, reduction="none"),
        bad_args=[
            BadArg(lambda: losses.ProbabilityMSE(from_logits=1), "from_logits"),
            BadArg(lambda: losses.ProbabilityMSE(axis="last"), "axis"),
            BadArg(lambda: losses.ProbabilityMSE(reduction="max"), "reduction"),
        ],
    ),
]
