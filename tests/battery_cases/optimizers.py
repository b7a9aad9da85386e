"""Battery cases for mlcourse.optimizers (ML2021 L05-L06)."""

from mlcourse import optimizers as O
from mlcourse.schedules import WarmupThenDecay

from battery import BadArg, OptimizerCase

CASES = [
    OptimizerCase(
        "GradientDescent",
        lambda: O.GradientDescent(0.05),
        bad_args=[BadArg(lambda: O.GradientDescent(-0.1), "learning_rate")],
    ),
    OptimizerCase(
        "Momentum",
        lambda: O.Momentum(WarmupThenDecay(0.05, warmup_steps=3, decay_steps=20), momentum=0.9),
        bad_args=[
            BadArg(lambda: O.Momentum(-1.0), "learning_rate"),
            BadArg(lambda: O.Momentum(0.1, momentum=1.0), "momentum"),
            BadArg(lambda: O.Momentum(0.1, momentum=-0.5), "momentum"),
        ],
    ),
    OptimizerCase(
        "EMAMomentum",
        lambda: O.EMAMomentum(0.1, beta=0.8),
        bad_args=[BadArg(lambda: O.EMAMomentum(0.1, beta=1.5), "beta")],
    ),
    OptimizerCase(
        "NormalizedGD",
        lambda: O.NormalizedGD(0.01, norm="global"),
        bad_args=[
            BadArg(lambda: O.NormalizedGD(0.01, norm="l1"), "norm"),
            BadArg(lambda: O.NormalizedGD(0.01, epsilon=0.0), "epsilon"),
        ],
    ),
    OptimizerCase(
        "Adagrad",
        lambda: O.Adagrad(0.05, initial_accumulator_value=0.0, average=True),
        bad_args=[
            BadArg(
                lambda: O.Adagrad(0.05, initial_accumulator_value=-1.0), "initial_accumulator_value"
            ),
            BadArg(lambda: O.Adagrad(0.05, average="yes"), "average"),
        ],
    ),
    OptimizerCase(
        "RMSProp",
        lambda: O.RMSProp(0.01, rho=0.8, sigma_init="first_gradient"),
        bad_args=[
            BadArg(lambda: O.RMSProp(0.01, rho=1.0), "rho"),
            BadArg(lambda: O.RMSProp(0.01, sigma_init="ones"), "sigma_init"),
        ],
    ),
    OptimizerCase(
        "GlobalRMSProp",
        lambda: O.GlobalRMSProp(0.01, reduction="mean"),
        bad_args=[
            BadArg(lambda: O.GlobalRMSProp(0.01, reduction="max"), "reduction"),
            BadArg(lambda: O.GlobalRMSProp(-0.01), "learning_rate"),
        ],
    ),
    OptimizerCase(
        "Adam",
        lambda: O.Adam(0.01),
        bad_args=[
            BadArg(lambda: O.Adam(0.01, beta_1=1.0), "beta_1"),
            BadArg(lambda: O.Adam(0.01, beta_2=-0.1), "beta_2"),
            BadArg(lambda: O.Adam(0.01, bias_correction=None), "bias_correction"),
        ],
    ),
]
