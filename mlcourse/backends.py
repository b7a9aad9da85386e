"""Which Keras backend a part of mlcourse needs.

The library a Keras user builds on (``mlcourse.layers``, ``optimizers``, ``schedules``,
``losses``) is written with ``keras.ops`` and works on every Keras 3 backend (TensorFlow and JAX
are tested in CI, with the same numbers). The course's machinery is TensorFlow-only: the tutorial
runner, the TensorBoard callbacks and reporting, ``tf.distribute`` strategies, the Hessian tools
(``tf.GradientTape``), the vision models' ``tf.image`` augmentation and the benchmarks. Each of
those modules calls ``require_tensorflow`` when imported, so using one on another backend stops at
once with one line that says what to do, instead of failing deep inside TensorFlow.
"""

import keras

__all__ = ["BackendError", "require_tensorflow"]


class BackendError(RuntimeError):
    """A TensorFlow-only part of mlcourse was used on another Keras backend."""


def require_tensorflow(what):
    """Raise ``BackendError`` unless Keras runs on TensorFlow; ``what`` names the module."""
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise BackendError(
            f"{what} needs Keras's TensorFlow backend and the backend is {backend!r}: set "
            "KERAS_BACKEND=tensorflow before Keras is imported (mlcourse.layers, optimizers, "
            "schedules and losses work on every backend)"
        )
