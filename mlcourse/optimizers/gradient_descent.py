"""Gradient descent and its momentum variants (ML2021 L05, batch and momentum; L06 notes).

    plain         θᵗ⁺¹ = θᵗ − η gᵗ
    lecture       mᵗ⁺¹ = λ mᵗ − η gᵗ,          θᵗ⁺¹ = θᵗ + mᵗ⁺¹
    EMA           vᵗ   = β vᵗ⁻¹ + (1 − β) gᵗ,   θᵗ⁺¹ = θᵗ − η vᵗ
    normalized    θᵗ⁺¹ = θᵗ − η gᵗ / ‖gᵗ‖

With a constant η the two momentum forms are the same optimizer: unrolling both,

    mᵗ⁺¹ = −η Σₖ λᵗ⁻ᵏ gᵏ          and       −η vᵗ = −η (1 − β) Σₖ βᵗ⁻ᵏ gᵏ,

so ``EMAMomentum(η, β)`` steps exactly like ``Momentum(η (1 − β), λ=β)``: both have two knobs, the
EMA form only measures η in units of the average gradient. They differ once η changes over time (a
schedule): the lecture form multiplies each gradient by the η of *its* step, the EMA form rescales
the whole history by today's η.
"""

import keras
from keras import ops

from mlcourse.optimizers.base import CourseOptimizer, squared_global_norm
from mlcourse.validation import check_choice, check_positive, check_unit_interval

__all__ = ["GradientDescent", "Momentum", "EMAMomentum", "NormalizedGD"]


@keras.saving.register_keras_serializable(package="mlcourse")
class GradientDescent(CourseOptimizer):
    """Vanilla gradient descent, θᵗ⁺¹ = θᵗ − η gᵗ.

    ML2021 L05, "(vanilla) gradient descent". Same numbers as
    ``keras.optimizers.SGD(learning_rate)``.

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.01.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer` (``name``, ``clipnorm``, …).
    """

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        self.assign_sub(variable, ops.multiply(gradient, learning_rate))


@keras.saving.register_keras_serializable(package="mlcourse")
class Momentum(CourseOptimizer):
    """Gradient descent with momentum, in the lecture's form.

    ML2021 L05, "gradient descent + momentum": the movement m is the last movement, damped by λ,
    minus the gradient step; m⁰ = 0.

        mᵗ⁺¹ = λ mᵗ − η gᵗ
        θᵗ⁺¹ = θᵗ + mᵗ⁺¹

    Same numbers as ``keras.optimizers.SGD(learning_rate, momentum=λ)`` (Keras uses this form).

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.01.
        momentum: λ in [0, 1). Defaults to 0.9.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer`.
    """

    _config_keys = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.9, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_unit_interval("momentum", momentum)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.movements = self.add_slots(variables, "movement")

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.slot(self.movements, variable)
        momentum = ops.cast(self.momentum, variable.dtype)
        self.assign(
            m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate))
        )
        self.assign_add(variable, m)


@keras.saving.register_keras_serializable(package="mlcourse")
class EMAMomentum(CourseOptimizer):
    """Momentum as an exponential moving average of the gradients (the student's β form).

    ML2021 L06 notes, "Momentum: vₜ = βvₜ₋₁ + (1−β)gₜ": the step follows the running average of the
    gradients; v⁰ = 0 (no bias correction, unlike `Adam`).

        vᵗ   = β vᵗ⁻¹ + (1 − β) gᵗ
        θᵗ⁺¹ = θᵗ − η vᵗ

    With constant η this equals `Momentum` with λ = β and learning rate η(1 − β) (see the module
    docstring); Keras's twin is therefore ``SGD(learning_rate=η * (1 - β), momentum=β)``.

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.1.
        beta: β in [0, 1). Defaults to 0.9.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer`.
    """

    _config_keys = ("beta",)

    def __init__(self, learning_rate=0.1, beta=0.9, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta = check_unit_interval("beta", beta)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.averages = self.add_slots(variables, "gradient_average")

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        v = self.slot(self.averages, variable)
        self.assign_add(
            v, ops.multiply(ops.subtract(gradient, v), 1.0 - self.beta)
        )  # v += (1-β)(g - v)
        self.assign_sub(variable, ops.multiply(v, learning_rate))


@keras.saving.register_keras_serializable(package="mlcourse")
class NormalizedGD(CourseOptimizer):
    """Normalized gradient descent: a step of fixed length η whatever the gradient's size.

    ML2021 L06 notes, "NGD": θᵗ⁺¹ = θᵗ − η gᵗ / ‖gᵗ‖. With ``norm="global"`` ‖g‖ is taken over all
    the model's variables at once (the whole step has length η); with ``norm="per_variable"`` each
    variable (kernel, bias, …) is normalized on its own. ε keeps a zero gradient finite: g / (‖g‖ +
    ε). No Keras twin.

    Args:
        learning_rate: η, a float ≥ 0 or a `LearningRateSchedule`. Defaults to 0.01.
        norm: ``"global"`` or ``"per_variable"``. Defaults to ``"global"``.
        epsilon: ε > 0. Defaults to 1e-12.
        **kwargs: keyword arguments of `keras.optimizers.Optimizer`.
    """

    _config_keys = ("norm", "epsilon")
    NORMS = ("global", "per_variable")

    def __init__(self, learning_rate=0.01, norm="global", epsilon=1e-12, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.norm = check_choice("norm", norm, self.NORMS)
        self.epsilon = check_positive("epsilon", epsilon)
        self._needs_global_state = norm == "global"

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.gradient_norm = self.add_scalar("gradient_norm") if self.norm == "global" else None

    def update_global_state(self, gradients):
        self.assign(self.gradient_norm, ops.sqrt(squared_global_norm(gradients)))

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        if self.norm == "global":
            norm = ops.cast(self.gradient_norm, variable.dtype)
        else:
            norm = ops.sqrt(ops.sum(ops.square(gradient)))
        scale = ops.divide(learning_rate, ops.add(norm, self.epsilon))
        self.assign_sub(variable, ops.multiply(gradient, scale))
