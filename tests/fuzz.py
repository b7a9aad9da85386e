"""Hostile-but-fair constructor values for every public class, and how each one was answered.

Every registered layer, optimizer, schedule and loss (through its battery case, which
``tests/test_battery.py`` keeps in step with the registry) and every public callback (through
``_callback_cases`` in ``tests/test_fuzz.py``, kept in step with ``mlcourse.callbacks.__all__``)
is rebuilt from its config with one argument replaced by a bad value of its kind:

- bool arguments: the strings ``"False"`` and ``"true"``, and the int ``1``;
- int arguments: ``1.5``, ``"3"``, ``True``, NaN, inf, ``-1``, ``0`` and ``10**12``;
- float arguments: ``"0.1"``, ``True``, NaN, inf, -inf, ``-1.0`` and ``0.0``;
- int-tuple arguments (kernel sizes, strides): ``1.5``, ``(2.5, 3)``, ``"3"``, ``(0, 3)`` and
  ``(10**12, 3)``;
- choice arguments (a string the class checks): ``"bogus"``;
- the wrapped ``layer`` of a wrapper: ``3``, ``"False"`` and ``None``.

Each try ends in one of four outcomes:

- ``clear``: a ``ValueError`` whose message names the argument;
- ``valid``: accepted, and the object then works (a layer's call gives finite outputs, an
  optimizer's step finite weights, a schedule finite rates): the value was allowed;
- ``silent``: accepted although it can never be right (a string for a bool, NaN, inf, a fraction
  for an int, a size of 10¹²), or accepted and then non-finite;
- ``raw``: any other exception, or a ``ValueError`` that does not name the argument.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

NAN, INF = float("nan"), float("inf")
HUGE = 10**12

#: Values that can never be right for an argument of that kind: accepting one is ``silent``.
ALWAYS_BAD = {
    "bool": ["False", "true", 1],
    "int": [1.5, "3", True, NAN, INF, HUGE],
    "float": ["0.1", True, NAN, INF, -INF],
    "int_tuple": [1.5, (2.5, 3), "3", (HUGE, 3)],
    "choice": ["bogus"],
    "layer": [3, "False", None],
}
#: Values that are right for some arguments (``dropout=0``, ``axis=-1``): accepted, they must work.
MAYBE_BAD = {
    "bool": [],
    "int": [-1, 0],
    "float": [-1.0, 0.0],
    "int_tuple": [(0, 3)],
    "choice": [],
    "layer": [],
}

#: Arguments handed to Keras as they are (it checks them), or that only name things.
SKIPPED = {
    "name",
    "dtype",
    "trainable",
    "activation",
    "kernel_initializer",
    "bias_initializer",
    "beta_initializer",
    "gamma_initializer",
    "embeddings_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "global_clipnorm",
    "clipnorm",
    "clipvalue",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
    "weight_decay",
    "reduction",
}


@dataclasses.dataclass
class Outcome:
    owner: str
    argument: str
    value: Any
    kind: str
    verdict: str  # clear, valid, silent or raw
    detail: str = ""


def kind_of(value, choices_checked):
    """The fuzz kind of an argument from its value in a working config."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, int) for v in value):
        return "int_tuple"
    if isinstance(value, str) and choices_checked:
        return "choice"
    return None


def arguments(cls, config):
    """``{argument: kind}`` for the constructor arguments of ``cls`` present in ``config``."""
    parameters = inspect.signature(cls.__init__).parameters
    found = {}
    for name, parameter in parameters.items():
        if name in SKIPPED or name == "self" or parameter.kind is parameter.VAR_KEYWORD:
            continue
        if name not in config:
            continue
        if name == "layer":
            found[name] = "layer"
            continue
        kind = kind_of(config[name], choices_checked=not name.endswith("initializer"))
        if kind:
            found[name] = kind
    return found


def is_finite(values):
    for value in values:
        array = np.asarray(keras.ops.convert_to_numpy(value))
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            return False
    return True


def judge(owner, argument, value, kind, build: Callable, use: Callable):
    """Try ``build(value)``; if it is accepted, ``use(obj)`` must return finite values."""
    always_bad = any(_same(value, bad) for bad in ALWAYS_BAD[kind])
    try:
        obj = build(value)
    except Exception as error:  # noqa: BLE001 - the point is to see which
        return _refused(owner, argument, value, kind, error)
    if always_bad:
        return Outcome(owner, argument, value, kind, "silent", "accepted")
    try:
        outputs = use(obj)
    except Exception as error:  # noqa: BLE001
        return _refused(owner, argument, value, kind, error)
    if not is_finite(outputs):
        return Outcome(owner, argument, value, kind, "silent", "accepted, then non-finite")
    return Outcome(owner, argument, value, kind, "valid")


def _refused(owner, argument, value, kind, error):
    """``clear`` for a ValueError naming the argument, else ``raw``.

    Keras's ``from_config`` re-raises what the constructor raised as a TypeError ("Error when
    deserializing class ..."); the constructor's own error is its context.
    """
    if isinstance(error, TypeError) and "Error when deserializing" in str(error):
        error = error.__context__ or error
    named = isinstance(error, ValueError) and argument in str(error)
    detail = f"{type(error).__name__}: {error}"[:200]
    return Outcome(owner, argument, value, kind, "clear" if named else "raw", detail)


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def tries(kind):
    return ALWAYS_BAD[kind] + MAYBE_BAD[kind]


def counts(outcomes):
    found = {"tried": len(outcomes), "clear": 0, "valid": 0, "silent": 0, "raw": 0}
    for outcome in outcomes:
        found[outcome.verdict] += 1
    return found
