"""Adaptive learning rates: one σ per parameter, or one for the whole model (ML2021 L06).

Every optimizer here divides the step by a running size of the gradient,

    θᵢᵗ⁺¹ = θᵢᵗ − (η / σᵢᵗ) · mᵢᵗ

    Adagrad        σᵢᵗ = √(Σₖ (gᵢᵏ)²)                       (the lecture averages: √(1/(t+1) Σₖ
    (gᵢᵏ)²)) RMSProp        (σᵢᵗ)² = α (σᵢᵗ⁻¹)² + (1 − α) (gᵢᵗ)²
    GlobalRMSProp  (σᵗ)²  = α (σᵗ⁻¹)²  + (1 − α) ‖gᵗ‖²       one σ for every parameter
    Adam           RMSProp's σ with momentum m (both moving averages, bias-corrected)

The lecture writes no ε; Keras adds one so that σ = 0 stays finite. Keras puts it *inside* the root
for Adagrad and RMSprop (√(σ² + ε)) and *outside* for Adam (√v + ε); each class follows its Keras
twin so that they give the same numbers, and says so.
"""

import math

import keras
from keras import ops

from mlcourse.optimizers.base import CourseOptimizer, squared_global_norm
from mlcourse.validation import (
    check_bool,
    check_choice,
    check_non_negative,
    check_positive,
    check_unit_interval,
)

__all__ = ["Adagrad", "RMSProp", "GlobalRMSProp", "Adam"]

SIGMA_INITS = ("zeros", "first_gradient")


def _first_step_weight(rho, iterations, sigma_init, dtype):
    """α for this step: α, or 0 on the very first step when σ⁰ = |g⁰| (the lecture's start)."""
    if sigma_init == "zeros":
        return rho  # a Python float, exactly as Keras's RMSprop uses it
    return ops.multiply(ops.cast(rho, dtype), ops.cast(ops.greater(iterations, 0), dtype))


@keras.saving.register_keras_serializable(package="mlcourse")
class Adagrad(CourseOptimizer):
    """Adagrad: σᵢ from every gradient seen so far.

    ML2021 L06, "root mean square":

        accᵢᵗ = acc⁰ + Σₖ₌₀ᵗ (gᵢᵏ)²
        θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √(accᵢᵗ / nᵗ + ε)

    with nᵗ = 1 (``average=False``, Keras's Adagrad) or nᵗ = t + 1 (``average=True``, the lecture's
    root *mean* square). The lecture starts from acc⁰ = 0 and has no ε; Keras starts from acc⁰ = 0.1
    and puts ε inside the root. The defaults are Keras's: ``Adagrad(η)`` gives the numbers of
    ``keras.optimizers.Adagrad(η)``; ``Adagrad(η, initial_accumulator_value=0.0, average=True)`` is
    the lecture's (with a tiny ε).

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.001.
        initial_accumulator_value: acc⁰ ≥ 0. Defaults to 0.1 (Keras).
        epsilon: ε > 0, inside the root. Defaults to 1e-7.
        average: divide the sum by the number of steps (the lecture's mean). Defaults to False.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer`.
    """

    _config_keys = ("initial_accumulator_value", "epsilon", "average")

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        average=False,
        **kwargs,
    ):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_non_negative(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.epsilon = check_positive("epsilon", epsilon)
        self.average = check_bool("average", average)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        initializer = keras.initializers.Constant(self.initial_accumulator_value)
        self.accumulators = self.add_slots(variables, "accumulator", initializer=initializer)

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        accumulator = self.slot(self.accumulators, variable)
        self.assign_add(accumulator, ops.square(gradient))
        sigma_squared = accumulator
        if self.average:
            sigma_squared = ops.divide(accumulator, ops.cast(self.iterations + 1, variable.dtype))
        self.assign_sub(
            variable,
            ops.divide(
                ops.multiply(learning_rate, gradient),
                ops.sqrt(ops.add(sigma_squared, self.epsilon)),
            ),
        )


@keras.saving.register_keras_serializable(package="mlcourse")
class RMSProp(CourseOptimizer):
    """RMSProp: a per-parameter σᵢ that forgets old gradients.

    ML2021 L06, "RMSProp":

        (σᵢᵗ)² = α (σᵢᵗ⁻¹)² + (1 − α) (gᵢᵗ)²
        θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵢᵗ)² + ε)

    α is ``rho``. The lecture starts from σᵢ⁰ = |gᵢ⁰| (``sigma_init="first_gradient"``); Keras
    starts from σ² = 0 (``sigma_init="zeros"``, the default), which makes the first step 1/√(1 − α)
    ≈ 3.2 times longer. ε sits inside the root, as in Keras: ``RMSProp(η, rho)`` gives the numbers
    of ``keras.optimizers.RMSprop(η, rho)``.

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.001.
        rho: α in [0, 1). Defaults to 0.9.
        epsilon: ε > 0, inside the root. Defaults to 1e-7.
        sigma_init: ``"zeros"`` (Keras) or ``"first_gradient"`` (lecture). Defaults to ``"zeros"``.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer`.
    """

    _config_keys = ("rho", "epsilon", "sigma_init")

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, sigma_init="zeros", **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = check_unit_interval("rho", rho)
        self.epsilon = check_positive("epsilon", epsilon)
        self.sigma_init = check_choice("sigma_init", sigma_init, SIGMA_INITS)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = self.add_slots(variables, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        velocity = self.slot(self.velocities, variable)
        rho = _first_step_weight(self.rho, self.iterations, self.sigma_init, variable.dtype)
        self.assign(
            velocity,
            ops.add(ops.multiply(rho, velocity), ops.multiply(1 - rho, ops.square(gradient))),
        )
        self.assign_sub(
            variable,
            ops.divide(
                ops.multiply(learning_rate, gradient), ops.sqrt(ops.add(velocity, self.epsilon))
            ),
        )


@keras.saving.register_keras_serializable(package="mlcourse")
class GlobalRMSProp(CourseOptimizer):
    """RMSProp with one σ for the whole model: the student's "why not one global σ from ‖g‖²?".

    ML2021 L06 notes (question on RMSProp):

        (σᵗ)² = α (σᵗ⁻¹)² + (1 − α) ‖gᵗ‖² / n
        θᵢᵗ⁺¹ = θᵢᵗ − η gᵢᵗ / √((σᵗ)² + ε)

    where ‖gᵗ‖² sums over every parameter of every variable (n = 1, ``reduction="sum"``, the notes'
    formula) or averages over them (n = number of parameters, ``reduction="mean"``, so that η means
    the same as in `RMSProp`). The direction of the step is the plain gradient's; only its length
    adapts. Same ε and ``sigma_init`` conventions as `RMSProp`. No Keras twin; on a model with a
    single scalar weight it equals `RMSProp`.

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.001.
        rho: α in [0, 1). Defaults to 0.9.
        epsilon: ε > 0, inside the root. Defaults to 1e-7.
        reduction: ``"sum"`` or ``"mean"``. Defaults to ``"sum"``.
        sigma_init: ``"zeros"`` or ``"first_gradient"``. Defaults to ``"zeros"``.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer`.
    """

    _config_keys = ("rho", "epsilon", "reduction", "sigma_init")
    _needs_global_state = True
    REDUCTIONS = ("sum", "mean")

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        epsilon=1e-7,
        reduction="sum",
        sigma_init="zeros",
        **kwargs,
    ):
        super().__init__(learning_rate, **kwargs)
        self.rho = check_unit_interval("rho", rho)
        self.epsilon = check_positive("epsilon", epsilon)
        self.reduction = check_choice("reduction", reduction, self.REDUCTIONS)
        self.sigma_init = check_choice("sigma_init", sigma_init, SIGMA_INITS)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocity = self.add_scalar("global_velocity")
        self._parameter_count = (
            float(sum(math.prod(v.shape) for v in variables)) if self.reduction == "mean" else 1.0
        )

    def update_global_state(self, gradients):
        rho = _first_step_weight(self.rho, self.iterations, self.sigma_init, "float32")
        squared = ops.divide(squared_global_norm(gradients), self._parameter_count)
        self.assign(
            self.velocity, ops.add(ops.multiply(rho, self.velocity), ops.multiply(1 - rho, squared))
        )

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        sigma = ops.sqrt(ops.add(ops.cast(self.velocity, variable.dtype), self.epsilon))
        self.assign_sub(variable, ops.multiply(gradient, ops.divide(learning_rate, sigma)))


@keras.saving.register_keras_serializable(package="mlcourse")
class Adam(CourseOptimizer):
    """Adam = RMSProp + momentum, both as bias-corrected moving averages.

    ML2021 L06, "Adam: RMSProp + Momentum":

        mᵗ = β₁ mᵗ⁻¹ + (1 − β₁) gᵗ          vᵗ = β₂ vᵗ⁻¹ + (1 − β₂) (gᵗ)²
        θᵗ⁺¹ = θᵗ − η · √(1 − β₂ᵗ⁺¹) / (1 − β₁ᵗ⁺¹) · mᵗ / (√vᵗ + ε)

    which is the paper's m̂/(√v̂ + ε̂) with ε̂ = ε·√(1 − β₂ᵗ⁺¹) (Kingma & Ba, end of section 2), and
    is what Keras computes: ``Adam(η)`` gives the numbers of ``keras.optimizers.Adam(η)``. The
    paper's own form puts the fixed ε next to √v̂, so the two differ only while √v̂ is as small as
    ε. With ``bias_correction=False`` the factor √(1 − β₂ᵗ⁺¹)/(1 − β₁ᵗ⁺¹) is dropped (the lecture's
    plain "RMSProp + momentum", whose first steps are (1 − β₁)/√(1 − β₂) ≈ 3 times shorter).

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.001.
        beta_1: β₁ in [0, 1). Defaults to 0.9.
        beta_2: β₂ in [0, 1). Defaults to 0.999.
        epsilon: ε > 0, outside the root. Defaults to 1e-7.
        bias_correction: Defaults to True.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer`.
    """

    _config_keys = ("beta_1", "beta_2", "epsilon", "bias_correction")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        bias_correction=True,
        **kwargs,
    ):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_unit_interval("beta_1", beta_1)
        self.beta_2 = check_unit_interval("beta_2", beta_2)
        self.epsilon = check_positive("epsilon", epsilon)
        self.bias_correction = check_bool("bias_correction", bias_correction)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums, self.velocities = self.add_slots(variables, ["momentum", "velocity"])

    def _step_size(self, learning_rate, dtype):
        if not self.bias_correction:
            return learning_rate
        local_step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
        return learning_rate * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        alpha = self._step_size(learning_rate, variable.dtype)
        m = self.slot(self.momentums, variable)
        v = self.slot(self.velocities, variable)
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        self.assign_sub(
            variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        )
