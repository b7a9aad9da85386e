"""Watch for critical points while training (ML2021 L04, local minima and saddle points)."""

import numpy as np
import tensorflow as tf

from mlcourse.analysis.hessian import LossSurface, minimum_ratio
from mlcourse.callbacks.base import SummaryCallback
from mlcourse.validation import check_non_negative_int

__all__ = ["CriticalPointLogger"]

#: The largest model whose exact Hessian (n² floats) the logger computes.
MAX_HESSIAN_PARAMETERS = 20000


class CriticalPointLogger(SummaryCallback):
    """Every ``every`` epochs, log the Hessian's view of where training is, with ``tf.summary``.

    On the fixed data ``(x, y)`` it measures ‖g‖ and the Hessian H's extreme eigenvalues (ML2021
    L04: ‖g‖ ≈ 0 with λ_min < 0 is a saddle point, with λ_min > 0 a local minimum):

    * ``critical/gradient_norm``: ‖g‖₂ over all trainable weights;
    * ``critical/min_eigenvalue``, ``critical/max_eigenvalue``: the extremes of H's spectrum;
    * ``critical/minimum_ratio``: share of positive eigenvalues (the homework's minimum ratio) —
      only when the model has at most ``exact_max_parameters`` weights, since it needs the whole
      spectrum.

    Small models use the exact Hessian; larger ones Lanczos on Hessian-vector products
    (``mlcourse.analysis.hessian.LossSurface``). A plain Keras callback: add it to any ``fit``.

    Args:
        log_dir: folder for the event file (e.g. ``run.variant_dir(variant) / "train"``).
        x, y: the probe data (the cost is one Hessian, or a few dozen Hessian-vector products, on
            it).
        every: epochs between two writes (positive int).
        loss: the loss to analyse; None uses the model's compiled loss.
        exact_max_parameters: up to this many weights (at most 20,000: the exact Hessian's memory
            grows as its square) the exact Hessian is used.

    Attributes:
        history: a list of ``(epoch, {name: value})``, one entry per logged epoch.
    """

    def __init__(self, log_dir, x, y, every=1, loss=None, exact_max_parameters=2000):
        super().__init__(log_dir, every)
        self.x, self.y, self.loss = x, y, loss
        self.exact_max_parameters = check_non_negative_int(
            "exact_max_parameters", exact_max_parameters, high=MAX_HESSIAN_PARAMETERS
        )
        self.history = []
        self._surface = None

    def measure(self):
        """The logged quantities at the model's current weights, as a dict."""
        if self._surface is None:
            self._surface = LossSurface(self.model, self.x, self.y, loss=self.loss)
        surface = self._surface
        values = {"gradient_norm": surface.gradient_norm()}
        if surface.num_parameters <= self.exact_max_parameters:
            hessian = surface.hessian(max_parameters=self.exact_max_parameters)
            eigenvalues = np.linalg.eigvalsh(hessian)
            values["minimum_ratio"] = minimum_ratio(eigenvalues)
        else:
            eigenvalues, _ = surface.extreme_eigenpairs(k=1)
        values["min_eigenvalue"] = float(eigenvalues[0])
        values["max_eigenvalue"] = float(eigenvalues[-1])
        return values

    def write(self, step):
        values = self.measure()
        self.history.append((step, values))
        with self.writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(f"critical/{name}", value, step=step)
