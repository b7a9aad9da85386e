"""Learning-rate schedules: ηᵗ that changes with the step t (ML2021 L06, learning rate scheduling).

    θᵢᵗ⁺¹ = θᵢᵗ − (ηᵗ / σᵢᵗ) gᵢᵗ

* decay: near the end, take smaller steps so training stops oscillating around the minimum;
* warm-up: start with small steps while σ is estimated from only a few gradients, then speed up;
* the Transformer's schedule does both: ηᵗ = units^−½ · min(t^−½, t · warmup^−³ᐟ²).

Every schedule is a serialisable `keras.optimizers.schedules.LearningRateSchedule`: pass it as any
optimizer's ``learning_rate`` and it is saved with the model. The optimizer calls it with its
iteration counter, which starts at 0.
"""

import math

import keras
from keras import ops

from mlcourse.validation import (
    check_choice,
    check_non_negative,
    check_non_negative_int,
    check_positive,
    check_positive_int,
)

__all__ = ["LinearWarmup", "Decay", "WarmupThenDecay", "InverseSquareRoot"]

Schedule = keras.optimizers.schedules.LearningRateSchedule


def _as_float(step):
    return ops.cast(step, "float32")


def _linear_ramp(step, steps, start, end):
    """``start`` → ``end`` linearly over ``steps``: (end − start) · t/steps + start (as Keras)."""
    return (end - start) * (step / steps) + start


@keras.saving.register_keras_serializable(package="mlcourse")
class Decay(Schedule):
    """Decay from ``initial_learning_rate`` to ``final_learning_rate`` over ``decay_steps``, then
    stay.

    With p = min(t, T) / T (T = ``decay_steps``), η₀ = initial and η_T = final:

        linear        ηᵗ = η₀ + (η_T − η₀) p
        cosine        ηᵗ = η_T + (η₀ − η_T) (1 + cos πp) / 2
        exponential   ηᵗ = η₀ (η_T / η₀)ᵖ

    ML2021 L06, "learning rate decay". Keras twins, configured alike:
    ``PolynomialDecay(η₀, T, η_T, power=1)``, ``CosineDecay(η₀, T, alpha=η_T/η₀)`` and
    ``ExponentialDecay(η₀, T, η_T/η₀)`` (the last one does not stop at T).

    Args:
        initial_learning_rate: η₀ ≥ 0.
        decay_steps: T, an integer > 0.
        final_learning_rate: η_T ≥ 0 (> 0 for ``"exponential"``). Defaults to 0.
        shape: ``"linear"``, ``"cosine"`` or ``"exponential"``. Defaults to ``"cosine"``.

    Call arguments:
        step: the optimizer's iteration (an integer scalar or tensor).

    Returns:
        ηᵗ as a float32 scalar.
    """

    SHAPES = ("linear", "cosine", "exponential")

    def __init__(self, initial_learning_rate, decay_steps, final_learning_rate=0.0, shape="cosine"):
        super().__init__()
        self.initial_learning_rate = check_non_negative(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = check_positive_int("decay_steps", decay_steps)
        self.final_learning_rate = check_non_negative("final_learning_rate", final_learning_rate)
        self.shape = check_choice("shape", shape, self.SHAPES)
        if shape == "exponential":
            check_positive("initial_learning_rate", initial_learning_rate)
            check_positive("final_learning_rate (exponential shape)", final_learning_rate)

    def __call__(self, step):
        steps = ops.cast(self.decay_steps, "float32")
        progress = ops.divide(ops.minimum(_as_float(step), steps), steps)
        start, end = self.initial_learning_rate, self.final_learning_rate
        if self.shape == "linear":
            return ops.add(ops.multiply(end - start, progress), start)
        if self.shape == "cosine":
            alpha = end / start if start > 0 else 0.0
            cosine = 0.5 * (1.0 + ops.cos(ops.multiply(math.pi, progress)))
            return ops.multiply(start, (1 - alpha) * cosine + alpha)
        return ops.multiply(start, ops.power(end / start, progress))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "final_learning_rate": self.final_learning_rate,
            "shape": self.shape,
        }


@keras.saving.register_keras_serializable(package="mlcourse")
class LinearWarmup(Schedule):
    """Linear warm-up in front of any schedule (or a constant).

    ML2021 L06, "warm up": for the first W steps the rate grows linearly from η_start to the wrapped
    schedule's first value, then the wrapped schedule runs from its own step 0:

        ηᵗ = η_start + (s(0) − η_start) · t / W     for t < W
        ηᵗ = s(t − W)                               for t ≥ W

    Keras's twin for a constant s:
    ``CosineDecay(η_start, 1, alpha=1.0, warmup_target=s, warmup_steps=W)``.

    Args:
        schedule: the schedule after warm-up: a float ≥ 0 or a `LearningRateSchedule`.
        warmup_steps: W, an integer ≥ 0 (0: no warm-up).
        initial_learning_rate: η_start ≥ 0. Defaults to 0.

    Call arguments:
        step: the optimizer's iteration.

    Returns:
        ηᵗ as a float32 scalar.
    """

    def __init__(self, schedule, warmup_steps, initial_learning_rate=0.0):
        super().__init__()
        if isinstance(schedule, dict):
            schedule = keras.optimizers.schedules.deserialize(schedule)
        if not isinstance(schedule, Schedule):
            if (
                isinstance(schedule, bool)
                or not isinstance(schedule, (int, float))
                or not schedule >= 0
            ):
                raise ValueError(
                    f"schedule must be a float >= 0 or a LearningRateSchedule, got {schedule!r}"
                )
            schedule = float(schedule)
        self.schedule = schedule
        self.warmup_steps = check_non_negative_int("warmup_steps", warmup_steps)
        self.initial_learning_rate = check_non_negative(
            "initial_learning_rate", initial_learning_rate
        )

    def _after_warmup(self, step):
        if isinstance(self.schedule, Schedule):
            return _as_float(self.schedule(step))
        return ops.cast(self.schedule, "float32")

    def __call__(self, step):
        step = _as_float(step)
        if self.warmup_steps == 0:
            return self._after_warmup(step)
        warmup_steps = ops.cast(self.warmup_steps, "float32")
        ramp = _linear_ramp(step, warmup_steps, self.initial_learning_rate, self._after_warmup(0.0))
        after = self._after_warmup(ops.maximum(ops.subtract(step, warmup_steps), 0.0))
        return ops.where(ops.less(step, warmup_steps), ramp, after)

    def get_config(self):
        schedule = self.schedule
        if isinstance(schedule, Schedule):
            schedule = keras.optimizers.schedules.serialize(schedule)
        return {
            "schedule": schedule,
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
        }


@keras.saving.register_keras_serializable(package="mlcourse")
class WarmupThenDecay(Schedule):
    """Warm up linearly to a peak, then decay: the usual shape for Adam and Transformers.

    ML2021 L06, "learning rate scheduling" (warm-up + decay):

        ηᵗ = η_start + (η_peak − η_start) · t / W          for t < W
        ηᵗ = Decay(η_peak, T, η_end, shape)(t − W)         for t ≥ W

    i.e. ``LinearWarmup(Decay(peak, T, end, shape), W, start)`` with its own flat config. Keras's
    twin for ``shape="cosine"``:
    ``CosineDecay(η_start, T, alpha=η_end/η_peak, warmup_target=η_peak, warmup_steps=W)``.

    Args:
        peak_learning_rate: η_peak > 0.
        warmup_steps: W, an integer ≥ 0.
        decay_steps: T, an integer > 0.
        final_learning_rate: η_end ≥ 0. Defaults to 0.
        shape: ``"linear"``, ``"cosine"`` or ``"exponential"``. Defaults to ``"cosine"``.
        initial_learning_rate: η_start ≥ 0. Defaults to 0.

    Call arguments:
        step: the optimizer's iteration.

    Returns:
        ηᵗ as a float32 scalar.
    """

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps,
        decay_steps,
        final_learning_rate=0.0,
        shape="cosine",
        initial_learning_rate=0.0,
    ):
        super().__init__()
        self.peak_learning_rate = check_positive("peak_learning_rate", peak_learning_rate)
        self.warmup_steps = check_non_negative_int("warmup_steps", warmup_steps)
        self.decay_steps = check_positive_int("decay_steps", decay_steps)
        self.final_learning_rate = check_non_negative("final_learning_rate", final_learning_rate)
        self.shape = check_choice("shape", shape, Decay.SHAPES)
        self.initial_learning_rate = check_non_negative(
            "initial_learning_rate", initial_learning_rate
        )
        decay = Decay(peak_learning_rate, decay_steps, final_learning_rate, shape)
        self._schedule = LinearWarmup(decay, warmup_steps, initial_learning_rate)

    def __call__(self, step):
        return self._schedule(step)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "final_learning_rate": self.final_learning_rate,
            "shape": self.shape,
            "initial_learning_rate": self.initial_learning_rate,
        }


@keras.saving.register_keras_serializable(package="mlcourse")
class InverseSquareRoot(Schedule):
    """The Transformer's schedule: linear warm-up, then decay as 1/√t.

    "Attention is all you need", eq. 3, cited in ML2021 L06 (warm-up):

        ηᵗ = scale · units^−½ · min(s^−½, s · W^−³ᐟ²),   s = t + 1

    It peaks at s = W with scale/√(units · W). s counts from 1 as in the paper (the optimizer's
    iteration t counts from 0), so the first step is not wasted at η = 0.

    Args:
        units: the model width (the paper's d_model), an integer > 0.
        warmup_steps: W, an integer > 0. Defaults to 4000.
        scale: a float > 0 multiplying the whole schedule. Defaults to 1.

    Call arguments:
        step: the optimizer's iteration.

    Returns:
        ηᵗ as a float32 scalar.
    """

    def __init__(self, units, warmup_steps=4000, scale=1.0):
        super().__init__()
        self.units = check_positive_int("units", units)
        self.warmup_steps = check_positive_int("warmup_steps", warmup_steps)
        self.scale = check_positive("scale", scale)

    def __call__(self, step):
        s = ops.add(_as_float(step), 1.0)
        decay = ops.rsqrt(s)
        warmup = ops.multiply(s, self.warmup_steps**-1.5)
        return ops.multiply(self.scale * self.units**-0.5, ops.minimum(decay, warmup))

    def get_config(self):
        return {"units": self.units, "warmup_steps": self.warmup_steps, "scale": self.scale}
