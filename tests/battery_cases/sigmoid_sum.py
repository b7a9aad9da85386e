import numpy as np

from mlcourse.layers import SigmoidSum

from battery import BadArg, LayerCase


def _inputs():
    return np.random.default_rng(0).normal(size=(4, 7)).astype("float32")


CASES = [
    LayerCase(
        name="SigmoidSum",
        make=lambda: SigmoidSum(5, unit="hard_sigmoid"),
        inputs=_inputs,
        bad_args=[
            BadArg(lambda: SigmoidSum(0), "units"),
            BadArg(lambda: SigmoidSum(2.5), "units"),
            BadArg(lambda: SigmoidSum(3, unit="tanh"), "unit"),
        ],
    ),
]
