"""Gradients on whichever Keras backend the tests run on (``KERAS_BACKEND``).

The tests marked ``backends`` run once per backend in CI (TensorFlow, then JAX): they take
gradients through ``gradients`` instead of ``tf.GradientTape``.
"""

import keras
import numpy as np

BACKEND = keras.backend.backend()


def gradients(loss, variables, state=()):
    """``(loss(), [d loss / d v for v in variables])`` as NumPy, for Keras ``Variable``s.

    TensorFlow records ``loss()`` on a tape; JAX differentiates it as a function of the variables'
    values, passed in through a ``keras.StatelessScope``. ``state``: other variables that
    ``loss()`` may update (moving statistics, a power-iteration vector): TensorFlow assigns them in
    place; on JAX their new values are read from the scope and assigned afterwards, the same.
    """
    variables, state = list(variables), list(state)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, variables)
    elif BACKEND == "jax":
        import jax

        def of_values(values):
            mapping = [*zip(variables, values, strict=True), *((v, v.value) for v in state)]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                result = loss()
            return result, [scope.get_current_value(v) for v in state]

        (value, updated), grads = jax.value_and_grad(of_values, has_aux=True)(
            [v.value for v in variables]
        )
        for variable, new in zip(state, updated, strict=True):
            variable.assign(new)
    else:
        raise NotImplementedError(f"no gradients for the {BACKEND} backend in tests/backend.py")
    return np.asarray(value), [np.asarray(g) for g in grads]


def stateless_gradients(function, values):
    """The gradient of ``function(values)`` (a list of arrays) with respect to ``values``, as a
    JAX training loop takes it (``jax.grad`` over ``Model.stateless_call``) or TensorFlow's tape."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        values = [tf.convert_to_tensor(v) for v in values]
        with tf.GradientTape() as tape:
            tape.watch(values)
            result = function(values)
        grads = tape.gradient(result, values)
    elif BACKEND == "jax":
        import jax

        grads = jax.grad(function)(list(values))
    else:
        raise NotImplementedError(f"no gradients for the {BACKEND} backend in tests/backend.py")
    return [np.asarray(g) for g in grads]
