"""Watch for critical points while training (ML2021 L04, local minima and saddle points)."""

import keras
import numpy as np

__all__ = ["CriticalPointLogger"]


class CriticalPointLogger(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs, log the Hessian's view of where training is, with ``tf.summary``.

    On the fixed data ``(x, y)`` it measures ‖g‖ and the Hessian H's extreme eigenvalues (ML2021 L04:
    ‖g‖ ≈ 0 with λ_min < 0 is a saddle point, with λ_min > 0 a local minimum):

    * ``critical/gradient_norm``: ‖g‖₂ over all trainable weights;
    * ``critical/min_eigenvalue``, ``critical/max_eigenvalue``: the extremes of H's spectrum;
    * ``critical/minimum_ratio``: share of positive eigenvalues (the homework's minimum ratio) — only
      when the model has at most ``exact_max_parameters`` weights, since it needs the whole spectrum.

    Small models use the exact Hessian; larger ones Lanczos on Hessian-vector products
    (``mlcourse.analysis.hessian.LossSurface``). A plain Keras callback: add it to any ``fit``.

    Args:
        log_dir: folder for the event file (e.g. ``run.variant_dir(variant) / "train"``).
        x, y: the probe data (the cost is one Hessian, or a few dozen Hessian-vector products, on it).
        every_n_epochs: positive int.
        loss: the loss to analyse; None uses the model's compiled loss.
        exact_max_parameters: non-negative int; up to this many weights the exact Hessian is used.

    Attributes:
        history: a list of ``(epoch, {name: value})``, one entry per logged epoch.
    """

    def __init__(self, log_dir, x, y, every_n_epochs=1, loss=None, exact_max_parameters=2000):
        super().__init__()
        if int(every_n_epochs) != every_n_epochs or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be a positive integer, got {every_n_epochs}")
        if int(exact_max_parameters) != exact_max_parameters or exact_max_parameters < 0:
            raise ValueError(
                f"exact_max_parameters must be a non-negative integer, got {exact_max_parameters}"
            )
        self.log_dir, self.x, self.y, self.loss = str(log_dir), x, y, loss
        self.every_n_epochs, self.exact_max_parameters = (
            int(every_n_epochs),
            int(exact_max_parameters),
        )
        self.history = []
        self._surface = None
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        from mlcourse.analysis.hessian import LossSurface

        self._surface = LossSurface(self.model, self.x, self.y, loss=self.loss)
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def measure(self):
        """The logged quantities at the model's current weights, as a dict."""
        from mlcourse.analysis.hessian import minimum_ratio

        surface = self._surface
        values = {"gradient_norm": surface.gradient_norm()}
        if surface.num_parameters <= self.exact_max_parameters:
            eigenvalues = np.linalg.eigvalsh(
                surface.hessian(max_parameters=self.exact_max_parameters)
            )
            values["minimum_ratio"] = minimum_ratio(eigenvalues)
        else:
            eigenvalues, _ = surface.extreme_eigenpairs(k=1)
        values["min_eigenvalue"], values["max_eigenvalue"] = (
            float(eigenvalues[0]),
            float(eigenvalues[-1]),
        )
        return values

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        import tensorflow as tf

        values = self.measure()
        self.history.append((epoch + 1, values))
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(f"critical/{name}", value, step=epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
