"""Battery cases for mlcourse.schedules (ML2021 L06, learning rate scheduling)."""

from mlcourse.schedules import Decay, InverseSquareRoot, LinearWarmup, WarmupThenDecay

from battery import BadArg, ScheduleCase

CASES = [
    ScheduleCase(
        "LinearWarmup",
        lambda: LinearWarmup(Decay(0.1, decay_steps=50, shape="linear"), warmup_steps=5),
        bad_args=[
            BadArg(lambda: LinearWarmup(0.1, warmup_steps=-1), "warmup_steps"),
            BadArg(lambda: LinearWarmup(-0.1, warmup_steps=5), "schedule"),
            BadArg(
                lambda: LinearWarmup(0.1, warmup_steps=5, initial_learning_rate=-1.0),
                "initial_learning_rate",
            ),
        ],
    ),
    ScheduleCase(
        "Decay",
        lambda: Decay(0.1, decay_steps=100, final_learning_rate=0.001, shape="exponential"),
        bad_args=[
            BadArg(lambda: Decay(0.1, decay_steps=0), "decay_steps"),
            BadArg(lambda: Decay(0.1, decay_steps=10, shape="step"), "shape"),
            BadArg(lambda: Decay(-0.1, decay_steps=10), "initial_learning_rate"),
            BadArg(lambda: Decay(0.1, decay_steps=10, shape="exponential"), "final_learning_rate"),
        ],
    ),
    ScheduleCase(
        "WarmupThenDecay",
        lambda: WarmupThenDecay(0.1, warmup_steps=10, decay_steps=100, final_learning_rate=0.01),
        bad_args=[
            BadArg(lambda: WarmupThenDecay(0.1, warmup_steps=-5, decay_steps=100), "warmup_steps"),
            BadArg(
                lambda: WarmupThenDecay(0.0, warmup_steps=5, decay_steps=100), "peak_learning_rate"
            ),
            BadArg(
                lambda: WarmupThenDecay(0.1, warmup_steps=5, decay_steps=100, shape="cos"), "shape"
            ),
        ],
    ),
    ScheduleCase(
        "InverseSquareRoot",
        lambda: InverseSquareRoot(units=64, warmup_steps=20),
        bad_args=[
            BadArg(lambda: InverseSquareRoot(units=0), "units"),
            BadArg(lambda: InverseSquareRoot(units=64, warmup_steps=-1), "warmup_steps"),
        ],
    ),
]
