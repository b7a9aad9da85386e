"""The shared battery's case types.

Every public layer, optimizer and learning-rate schedule that mlcourse registers with
``keras.saving.register_keras_serializable(package="mlcourse")`` must have exactly one case in a
module under ``tests/battery_cases/`` (one module per concept, each exporting ``CASES``).
``tests/test_battery.py`` runs the same checks on every case and fails if a registered class has
no case, so new work is covered by adding a case, not by writing new boilerplate tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any


@dataclasses.dataclass
class BadArg:
    """``make()`` must raise ``ValueError`` whose message contains ``argument``."""

    make: Callable[[], Any]
    argument: str


@dataclasses.dataclass
class LayerCase:
    """A layer (or a layer wrapper) under test.

    make: builds a fresh, unbuilt layer.
    inputs: returns the call inputs (a NumPy array, or a list of arrays for several inputs).
        Integer arrays stay integer under mixed precision (token ids).
    call_kwargs: extra keyword arguments for ``layer(inputs, **call_kwargs)`` (e.g. ``training``).
    bad_args: constructors that must be rejected.
    atol: tolerance for the ``.keras`` reload equality (0 means bit-identical).
    steps_to_move: training steps after which every trainable weight must have moved: 1, or 2
        for a layer with a zero-initialised output (a gate γ = 0, a SpatialTransformer that starts
        at the identity): it stops the gradient of what feeds it until the first step moves it.
    """

    name: str
    make: Callable[[], Any]
    inputs: Callable[[], Any]
    bad_args: Sequence[BadArg] = ()
    call_kwargs: dict = dataclasses.field(default_factory=dict)
    atol: float = 0.0
    steps_to_move: int = 1


@dataclasses.dataclass
class OptimizerCase:
    """An optimizer under test. ``make`` returns a fresh optimizer."""

    name: str
    make: Callable[[], Any]
    bad_args: Sequence[BadArg] = ()


@dataclasses.dataclass
class ScheduleCase:
    """A ``LearningRateSchedule`` under test. ``make`` returns a fresh schedule."""

    name: str
    make: Callable[[], Any]
    bad_args: Sequence[BadArg] = ()


@dataclasses.dataclass
class ObjectCase:
    """Any other registered object (a loss, a constraint): config round trip and bad args."""

    name: str
    make: Callable[[], Any]
    bad_args: Sequence[BadArg] = ()
