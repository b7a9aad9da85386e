"""The one small base every mlcourse optimizer shares.

ML2021 L05-L06 write every optimizer as the same loop,

    θᵢ ← θᵢ − (ηᵗ / σᵢᵗ) · mᵢᵗ

and only change how the step direction m and the scale σ are kept. Keras already runs that loop
(`keras.optimizers.Optimizer`: clipping, loss scaling, distribution, saving, the iteration counter),
so a course optimizer only says what it remembers (`build`) and how it steps (`update_step`). This
base adds the three things they all need:

* argument checks that name the argument and the allowed values (`mlcourse.validation`, shared with
  the layers; `check_learning_rate` below);
* `add_slots`, one optimizer variable per model variable ("slot"), and `add_scalar`, one variable
  for the whole model (the global σ of `GlobalRMSProp`, the global ‖g‖ of `NormalizedGD`);
* `update_global_state(gradients)`: a hook run once per step, before the per-variable updates, with
  the gradients of *all* variables (summed over replicas), for optimizers whose step depends on ‖g‖
  over the whole model;

and `get_config` from the `_config_keys` tuple of each subclass.

Two of these rest on private methods of `keras.optimizers.Optimizer`, as Keras's own optimizers
do: `slot` on `_get_variable_index`, and the hook on `_backend_update_step` (the one place that
sees every gradient of a step after clipping and loss scaling, inside the distribution strategy).
`setup.cfg` pins Keras to the minor version tested (`TESTED_KERAS`), and a test fails loudly when
either method's signature changes.
"""

import math
import numbers

import keras

__all__ = ["TESTED_KERAS", "CourseOptimizer"]

#: The Keras minor version whose private ``Optimizer`` methods this base was tested against.
TESTED_KERAS = "3.15"


def check_learning_rate(value):
    """A float ≥ 0, a `LearningRateSchedule` or a callable (Keras accepts all three)."""
    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf:
        raise ValueError(
            "learning_rate must be a finite float >= 0 or a "
            f"keras.optimizers.schedules.LearningRateSchedule, got {value!r}"
        )
    return float(value)


class CourseOptimizer(keras.optimizers.Optimizer):
    """Base of the course optimizers: a `keras.optimizers.Optimizer` with checks, slots and a global
    hook.

    Subclasses set ``_config_keys`` (their own constructor arguments, read back from attributes of
    the same name), create their state in `build` with `add_slots` / `add_scalar`, and write
    `update_step(gradient, variable, learning_rate)` with `keras.ops`. Set
    ``_needs_global_state = True`` and override `update_global_state` to see all the gradients of a
    step at once.

    Args:
        learning_rate: float ≥ 0 or a `keras.optimizers.schedules.LearningRateSchedule`.
        **kwargs: the keyword arguments of `keras.optimizers.Optimizer` (``clipnorm``, ``name``, …).
    """

    _config_keys = ()
    _needs_global_state = False

    def __init__(self, learning_rate, **kwargs):
        super().__init__(learning_rate=check_learning_rate(learning_rate), **kwargs)

    # -- state -----------------------------------------------------------------------------------
    def add_slots(self, variables, name, initializer="zeros"):
        """One optimizer variable shaped like each model variable (Keras's
        `add_optimizer_variables`).
        """
        return self.add_optimizer_variables(variables, name, initializer=initializer)

    def add_scalar(self, name, initializer="zeros"):
        """One float32 scalar for the whole model, identical on every replica."""
        return self.add_variable(
            shape=(),
            initializer=initializer,
            dtype="float32",
            aggregation="only_first_replica",
            name=name,
        )

    def slot(self, slots, variable):
        """The slot of ``slots`` that belongs to model ``variable``."""
        return slots[self._get_variable_index(variable)]

    # -- the global hook ---------------------------------------------------------------------------
    def update_global_state(self, gradients):
        """Update the scalars that depend on every gradient of this step (override; runs once a
        step).
        """

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if self._needs_global_state:
            self.update_global_state(_summed_over_replicas(grads))
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    # -- config ------------------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # Keras deserializes a schedule *into* the dict it is given; work on a copy so the caller's
        # config stays a plain, comparable, JSON-able dict.
        return super().from_config(dict(config), custom_objects=custom_objects)


def squared_global_norm(gradients):
    """‖g‖² over all variables, Σ_variables Σ_i g_i², in float32."""
    return sum(keras.ops.sum(keras.ops.square(keras.ops.cast(g, "float32"))) for g in gradients)


def _summed_over_replicas(grads):
    """The gradients as the update will see them: summed over replicas (a no-op on one device)."""
    grads = [g for g in grads if g is not None]
    if keras.backend.backend() != "tensorflow":
        return grads  # tf.distribute replicas exist only on TensorFlow
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return grads
    return context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
