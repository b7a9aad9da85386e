"""The constructor fuzz (see ``tests/fuzz.py``): every bad value is refused by name, or works.

One test per public class, enumerated from the battery (itself checked against the Keras registry)
and from ``mlcourse.callbacks.__all__``; ``test_fuzz_counts`` prints the totals.
"""

import inspect

import keras
import numpy as np
import pytest
from fuzz import Outcome, arguments, counts, judge, kind_of, tries

import mlcourse
import mlcourse.callbacks as callbacks

from battery import LayerCase, ObjectCase, OptimizerCase, ScheduleCase
from battery_cases import all_cases

mlcourse.load_all()
CASES = all_cases()
RESULTS = {}


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _tiny_fit(optimizer=None, extra_callbacks=(), epochs=1):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x[:, :1] * 2 + 0.5
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh", name="hidden"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(optimizer=optimizer or keras.optimizers.SGD(0.01), loss="mse")
    model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, callbacks=list(extra_callbacks))
    return model.get_weights()


def _layer_use(case):
    def use(layer):
        inputs = _as_list(case.inputs())
        return _as_list(layer(inputs if len(inputs) > 1 else inputs[0], **case.call_kwargs))

    return use


def _use(case):
    if isinstance(case, LayerCase):
        return _layer_use(case)
    if isinstance(case, OptimizerCase):
        return lambda optimizer: _tiny_fit(optimizer)
    if isinstance(case, ScheduleCase):
        return lambda schedule: [schedule(step) for step in (0, 1, 10, 100, 1000)]
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]], "float32")
    y_pred = np.array([[0.2, 0.8], [2.0, -1.0]], "float32")
    return lambda loss: [loss(y_true, y_pred)]


def _fuzz_case(case):
    obj = case.make()
    cls, config = type(obj), obj.get_config()
    outcomes = []
    keras.backend.clear_session()
    for argument, kind in arguments(cls, config).items():
        for value in tries(kind):
            outcomes.append(
                judge(
                    case.name,
                    argument,
                    value,
                    kind,
                    lambda v, a=argument: cls.from_config({**config, a: v}),
                    _use(case),
                )
            )
    return outcomes


def _problems(outcomes):
    return [o for o in outcomes if o.verdict in ("silent", "raw")]


def _show(problems):
    return "\n".join(
        f"{o.owner}({o.argument}={o.value!r}) [{o.kind}]: {o.verdict} {o.detail}" for o in problems
    )


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if isinstance(c, (LayerCase, OptimizerCase, ScheduleCase, ObjectCase))],
    ids=lambda c: c.name,
)
def test_registered_class_refuses_bad_values_by_name(case):
    outcomes = _fuzz_case(case)
    RESULTS[case.name] = outcomes
    assert outcomes, f"{case.name}: no argument to fuzz"
    problems = _problems(outcomes)
    assert not problems, _show(problems)


# ---- callbacks -----------------------------------------------------------------------------------
X = np.zeros((2, 3), "float32")
Y = np.zeros((2, 1), "float32")
IMAGES = np.zeros((1, 8, 8, 1), "float32")


def _callback_cases(tmp):
    """name -> (working keyword arguments, the maybe-bad values that are allowed per argument)."""
    return {
        "ActivationHistogramLogger": ({"log_dir": tmp, "x": X, "every": 1}, {}),
        "AttentionGateLogger": ({"log_dir": tmp, "every": 1}, {}),
        "AttentionMaps": (
            {"log_dir": tmp, "layer_name": "a", "x": X, "sentences": [["a", "b", "c"]], "every": 1},
            {},
        ),
        "CriticalPointLogger": (
            {"log_dir": tmp, "x": X, "y": Y, "every": 1, "exact_max_parameters": 10},
            {"exact_max_parameters": [0]},  # 0: always Lanczos
        ),
        "CrossAttentionMaps": (
            {"log_dir": tmp, "words": ["ab"], "vocabulary": ["a", "b"], "source_length": 4},
            {"block": [-1, 0]},
        ),
        "EmbeddingProjector": ({"log_dir": tmp, "labels": ["a", "b"], "skip_padding": True}, {}),
        "EpochTimer": ({"log_dir": tmp}, {}),
        "FigureSnapshots": ({"log_dir": tmp, "subfolder": "figures", "every": 1}, {}),
        "FilterImages": ({"log_dir": tmp, "layer_name": "c", "x": IMAGES, "every": 1}, {}),
        "GradientNormLogger": ({"log_dir": tmp, "x": X, "y": Y, "every": 1}, {}),
        "ImageAttentionMaps": (
            {
                "log_dir": tmp,
                "layer_names": ["a"],
                "images": IMAGES,
                "queries": [(1, 1)],
                "every": 1,
                "head": 0,
            },
            {"head": [0]},
        ),
        "LearningRateLogger": ({"log_dir": tmp, "every": 10}, {}),
        "NormalizationParameterLogger": ({"log_dir": tmp, "every": 1}, {}),
        "StopAtLoss": ({"x": X, "y": Y, "target": 0.5, "every": 1}, {"target": [0.0]}),
        "SummaryCallback": (
            {"log_dir": tmp, "every": 1, "write_last": False, "write_first": False},
            {},
        ),
        "TerminateOnNaNWithHint": ({"label": "x"}, {}),
        "WeightTrajectory": ({"path": tmp / "path.json", "max_parameters": 16}, {}),
    }


def _public_callbacks():
    return sorted(
        name
        for name in callbacks.__all__
        if inspect.isclass(getattr(callbacks, name))
        and issubclass(getattr(callbacks, name), keras.callbacks.Callback)
    )


def test_every_public_callback_has_a_fuzz_case(tmp_path):
    assert sorted(_callback_cases(tmp_path)) == _public_callbacks()


@pytest.mark.parametrize("name", _public_callbacks())
def test_callback_refuses_bad_values_by_name(name, tmp_path):
    base, allowed = _callback_cases(tmp_path)[name]
    cls = getattr(callbacks, name)
    outcomes = []
    for argument, value in base.items():
        kind = kind_of(value, choices_checked=False)
        if kind is None:
            continue
        for bad in tries(kind):
            ok = any(bad == good and type(bad) is type(good) for good in allowed.get(argument, []))
            outcome = judge(
                name,
                argument,
                bad,
                kind,
                lambda v, a=argument: cls(**{**base, a: v}),
                lambda callback: [],
            )
            if outcome.verdict == "valid" and not ok:  # construction only: 0 or -1 not allowed
                outcome = Outcome(name, argument, bad, kind, "silent", "accepted")
            outcomes.append(outcome)
    RESULTS[f"callbacks.{name}"] = outcomes
    problems = _problems(outcomes)
    assert not problems, _show(problems)


def test_fuzz_counts(capsys):
    """Prints the totals of the fuzz run above (run the whole file to see them)."""
    outcomes = [o for found in RESULTS.values() for o in found]
    total = counts(outcomes)
    with capsys.disabled():
        print(f"\nfuzz: {len(RESULTS)} classes, {total}")
    if RESULTS:
        assert total["silent"] == total["raw"] == 0
