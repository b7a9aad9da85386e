"""Critical points and the Hessian (ML2021 L04, local minima and saddle points; homework 2-2).

Around a point θ' the loss is, to second order (Taylor),

    L(θ) ≈ L(θ') + (θ − θ')ᵀ g + ½ (θ − θ')ᵀ H (θ − θ'),     g = ∇L(θ'),   H = ∇²L(θ').

At a *critical point* g = 0 and the Hessian alone decides what θ' is:

* every eigenvalue λᵢ of H positive  → local minimum (the loss rises in every direction);
* every eigenvalue negative          → local maximum;
* some positive, some negative       → saddle point.  Along the eigenvector u of a negative λ,
  L(θ' + t·u) ≈ L(θ') + ½ λ t² < L(θ'): the *escape direction*.

The homework's practical rule (a network rarely reaches g = 0 exactly, and H has many eigenvalues
near zero): when ‖g‖ < 1e-3, call the point *local-minimum-like* if its **minimum ratio**, the share
of positive eigenvalues, is above 0.5.

Two ways to get at H, both with respect to *all* trainable weights flattened into one vector θ:

* ``LossSurface.hessian()``: the exact n × n matrix (nested ``tf.GradientTape`` + ``jacobian``);
  memory n², so only for small models (a few thousand weights).
* ``LossSurface.hessian_vector_product(v)``: H·v by double backprop, ∇_θ (∇_θL · v), without ever
  forming H; it costs about two gradient evaluations, i.e. linear in n.
  ``LossSurface.extreme_eigenpairs()`` feeds it to Lanczos (``scipy.sparse.linalg.eigsh`` on a
  ``LinearOperator``) for the largest and smallest eigenvalues of models with 100k+ weights.

This module uses TensorFlow's ``GradientTape`` and so needs the TensorFlow backend of Keras.

Example:

```python
surface = LossSurface(model, x, y, loss="mse")
eigenvalues, eigenvectors = np.linalg.eigh(surface.hessian())
point = classify_critical_point(eigenvalues, surface.gradient_norm())
if point.kind == "saddle point":
    u = escape_direction(eigenvalues, eigenvectors)
    losses = surface.loss_along(u, np.linspace(-1, 1, 21))
```

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from scipy.sparse.linalg import LinearOperator, eigsh

from mlcourse.backends import require_tensorflow

require_tensorflow("mlcourse.analysis.hessian")

__all__ = [
    "CriticalPoint",
    "CurvatureCheck",
    "LossSurface",
    "check_curvature",
    "classify_critical_point",
    "escape_direction",
    "minimum_ratio",
]

#: ``CriticalPoint.kind`` values.
KINDS = (
    "local minimum",
    "local maximum",
    "saddle point",
    "flat (second order cannot tell)",
    "not critical",
)


def _loss_function(loss):
    """A callable ``loss(y_true, y_pred)``; the model's compiled single loss if ``loss`` is None."""
    if isinstance(loss, (dict, list, tuple)):
        raise ValueError(
            f"loss must be one loss (a name, a keras.losses.Loss or a callable), got {loss!r}"
        )
    function = keras.losses.get(loss)
    if function is None or not callable(function):
        raise ValueError(
            f"loss must be a Keras loss name, a keras.losses.Loss or a callable, got {loss!r}"
        )
    return function


class LossSurface:
    """The loss of a model on fixed data as a function of its flattened trainable weights θ.

    ML2021 L04, critical points: L(θ) with gradient g = ∇L(θ) and Hessian H = ∇²L(θ).
    Weights are read and written through ``weights()`` / ``set_weights(theta)``; every other method
    evaluates at the model's current weights, in inference mode (``training=False``), in the
    dtype of the model's weights: a float64 model gives a float64 loss, gradient and Hessian, where
    eigenvalues a million times smaller than the largest still have a trustworthy sign.

    Args:
        model: a built Keras model (TensorFlow backend).
        x, y: the data the loss is measured on (keep it to a batch that fits in memory at once).
        loss: a loss name, a ``keras.losses.Loss`` or ``loss(y_true, y_pred)``; None uses the
            model's compiled loss. Per-sample losses are averaged.
    """

    def __init__(self, model, x, y, loss=None):
        if not model.built or not model.trainable_variables:
            raise ValueError("model must be built and have trainable weights")
        if loss is None:
            loss = getattr(model, "loss", None)
            if loss is None:
                raise ValueError("loss must be given when the model is not compiled with one")
        self.model = model
        self.loss_fn = _loss_function(loss)
        self.variables = list(model.trainable_variables)
        self.dtype = "float64" if self.variables[0].dtype == "float64" else "float32"
        self.x = tf.convert_to_tensor(x)
        self.y = tf.cast(tf.convert_to_tensor(y), self.dtype)
        self.shapes = [tuple(v.shape) for v in self.variables]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.num_parameters = int(sum(self.sizes))
        spec = tf.TensorSpec([self.num_parameters], self.dtype)
        self._value = tf.function(self._value_eager)
        self._gradient = tf.function(self._gradient_eager)
        self._hvp = tf.function(self._hvp_eager, input_signature=[spec])
        self._hessian = tf.function(self._hessian_eager)

    # ---- θ as one vector -------------------------------------------------------------------------
    def weights(self):
        """θ: every trainable weight, flattened and concatenated (float64 NumPy)."""
        return np.concatenate(
            [np.ravel(keras.ops.convert_to_numpy(v)) for v in self.variables]
        ).astype("float64")

    def set_weights(self, theta):
        """Write the flat vector ``theta`` back into the model's variables."""
        theta = np.asarray(theta)
        if theta.shape != (self.num_parameters,):
            raise ValueError(f"theta must have shape ({self.num_parameters},), got {theta.shape}")
        for variable, part in zip(self.variables, self._split(theta), strict=True):
            variable.assign(np.reshape(part, variable.shape).astype(variable.dtype))

    def _split(self, flat):
        return np.split(flat, np.cumsum(self.sizes)[:-1])

    def _flatten(self, tensors):
        return tf.concat([tf.reshape(t, [-1]) for t in tensors], axis=0)

    # ---- L, g, Hv, H -----------------------------------------------------------------------------
    def _value_eager(self):
        y_pred = tf.cast(self.model(self.x, training=False), self.dtype)
        return tf.reduce_mean(self.loss_fn(self.y, y_pred))

    def _gradient_eager(self):
        with tf.GradientTape() as tape:
            value = self._value_eager()
        grads = tape.gradient(
            value, self.variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        return value, self._flatten(grads)

    def _hvp_eager(self, v):
        # Hv = ∇_θ (g(θ) · v), v held constant: double backprop, never forming H
        with tf.GradientTape() as outer:
            _, g = self._gradient_eager()
            g_dot_v = tf.reduce_sum(g * tf.stop_gradient(v))
        hv = outer.gradient(
            g_dot_v, self.variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        return self._flatten(hv)

    def _hessian_eager(self):
        # H[i, :] = ∂gᵢ/∂θ: the Jacobian of the flat gradient, one block of columns per variable
        with tf.GradientTape() as outer:
            _, g = self._gradient_eager()
        blocks = outer.jacobian(
            g, self.variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        return tf.concat([tf.reshape(b, [self.num_parameters, -1]) for b in blocks], axis=1)

    def value(self):
        """L(θ) at the current weights."""
        return float(self._value())

    def gradient(self):
        """g = ∇L(θ) as a flat float64 vector."""
        return self._gradient()[1].numpy().astype("float64")

    def gradient_norm(self):
        """‖g‖₂, the homework's test for a critical point (‖g‖ < 1e-3)."""
        return float(np.linalg.norm(self.gradient()))

    def hessian_vector_product(self, v):
        """H·v (flat float64), by double backprop; costs about two gradients, memory O(n)."""
        v = np.asarray(v, dtype=self.dtype)
        if v.shape != (self.num_parameters,):
            raise ValueError(f"v must have shape ({self.num_parameters},), got {v.shape}")
        return self._hvp(v).numpy().astype("float64")

    def hessian(self, max_parameters=5000):
        """The exact, symmetric n × n Hessian (float64).

        Memory n²: refuses n > ``max_parameters``.
        """
        if self.num_parameters > max_parameters:
            raise ValueError(
                f"max_parameters ({max_parameters}) is below the model's {self.num_parameters} "
                "weights; use extreme_eigenpairs() (Lanczos on Hessian-vector products) for large "
                "models"
            )
        h = self._hessian().numpy().astype("float64")
        return 0.5 * (h + h.T)  # H is symmetric; average away float32 round-off

    def extreme_eigenpairs(self, k=1, tol=1e-4, max_iterations=None, seed=0):
        """The ``k`` smallest and ``k`` largest eigenvalues of H, by Lanczos on H·v.

        Only Hessian-vector products are used (``scipy.sparse.linalg.eigsh`` with a
        ``LinearOperator``), so the cost is (number of Lanczos steps) × (two gradients): linear in
        the number of weights, with no n × n matrix.

        Args:
            k: eigenpairs wanted at each end of the spectrum (positive int, 2k < n).
            tol: relative accuracy of the eigenvalues (H·v is computed in float32, so not below
                ~1e-6).
            max_iterations: Lanczos restarts limit (None: scipy's default, 10n).
            seed: seed of the Lanczos start vector, so that results are reproducible.

        Returns:
            ``(eigenvalues, eigenvectors)``: ``2k`` eigenvalues in ascending order (the k smallest,
            then the k largest) and the matching unit eigenvectors as columns of an ``(n, 2k)``
            array.
        """
        if int(k) != k or k < 1 or 2 * k >= self.num_parameters:
            raise ValueError(
                f"k must be a positive integer with 2k < {self.num_parameters}, got {k}"
            )
        if not tol > 0:
            raise ValueError(f"tol must be positive, got {tol}")
        n = self.num_parameters
        operator = LinearOperator((n, n), matvec=self.hessian_vector_product, dtype="float64")
        start = np.random.default_rng(seed).normal(size=n)
        values, vectors = eigsh(
            operator, k=2 * int(k), which="BE", tol=tol, v0=start, maxiter=max_iterations
        )
        order = np.argsort(values)
        return values[order], vectors[:, order]

    # ---- moving in weight space ------------------------------------------------------------------
    def loss_along(self, direction, steps):
        """L(θ + t·u) for each t in ``steps``, u = ``direction``; the weights are restored
        afterwards.
        """
        direction = np.asarray(direction, dtype="float64")
        theta = self.weights()
        try:
            losses = []
            for t in steps:
                self.set_weights(theta + t * direction)
                losses.append(self.value())
        finally:
            self.set_weights(theta)
        return np.array(losses)

    def minimize_gradient_norm(
        self, steps, method="levenberg-marquardt", learning_rate=1e-3, tolerance=1e-5
    ):
        """Drive ‖g‖ towards 0 by minimising ½‖g(θ)‖² itself, as the homework did.

        Gradient descent on L slows down near any critical point but rarely reaches ‖g‖ ≈ 0. Here
        the objective is ½‖g‖², whose gradient is H·g, so the search lands on the nearest critical
        point of *any* kind — minimum, maximum or saddle — which is what we want to classify.

        * ``"levenberg-marquardt"`` (small models; one exact Hessian a step): Gauss–Newton on the
          residual g with Jacobian H, damped by μ:

              δ = −(H² + μI)⁻¹ H g = −Σᵢ λᵢ/(λᵢ² + μ) (uᵢ·g) uᵢ      (H = Σᵢ λᵢ uᵢuᵢᵀ)

          a step is kept only if it lowers ‖g‖ (then μ ← μ/10, else μ ← 4μ). Converges in tens of
          steps where first-order methods need thousands.
        * ``"adam"`` (any size; Hessian-vector products only): Adam on ‖g‖² with ``learning_rate``.

        Args:
            steps: the most steps to take (non-negative int).
            method: ``"levenberg-marquardt"`` or ``"adam"``.
            learning_rate: Adam's learning rate, or the initial damping μ for Levenberg–Marquardt.
            tolerance: stop once ‖g‖ is below it.

        Returns:
            ‖g‖ before the first step and after each step taken (length ≤ steps + 1).
        """
        if int(steps) != steps or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps}")
        if method not in ("levenberg-marquardt", "adam"):
            raise ValueError(f"method must be 'levenberg-marquardt' or 'adam', got {method!r}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        norms = [self.gradient_norm()]
        if method == "adam":
            step = self._adam_step(learning_rate)
            for _ in range(int(steps)):
                if norms[-1] < tolerance:
                    break
                step()
                norms.append(self.gradient_norm())
            return np.array(norms)
        damping = learning_rate
        for _ in range(int(steps)):
            if norms[-1] < tolerance:
                break
            theta, g = self.weights(), self.gradient()
            eigenvalues, eigenvectors = np.linalg.eigh(self.hessian())
            delta = -eigenvectors @ (
                eigenvalues / (eigenvalues**2 + damping) * (eigenvectors.T @ g)
            )
            self.set_weights(theta + delta)
            norm = self.gradient_norm()
            if norm < norms[-1]:
                damping = max(damping / 10, 1e-12)
                norms.append(norm)
            else:  # reject: back to θ, trust the quadratic model less
                self.set_weights(theta)
                damping *= 4
                norms.append(norms[-1])
        return np.array(norms)

    def _adam_step(self, learning_rate):
        optimizer = keras.optimizers.Adam(learning_rate)
        optimizer.build(self.variables)

        @tf.function
        def step():
            with tf.GradientTape() as outer:
                _, g = self._gradient_eager()
                squared_norm = 0.5 * tf.reduce_sum(tf.square(g))  # ½‖g‖²; its gradient is Hg
            grads = outer.gradient(
                squared_norm, self.variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )
            optimizer.apply_gradients(zip(grads, self.variables, strict=True))

        return step


# ---- classification ------------------------------------------------------------------------------


def minimum_ratio(eigenvalues):
    """The homework's minimum ratio: the share of strictly positive eigenvalues of H."""
    eigenvalues = np.asarray(eigenvalues)
    if eigenvalues.size == 0:
        raise ValueError("eigenvalues must not be empty")
    return float(np.mean(eigenvalues > 0))


@dataclasses.dataclass(frozen=True)
class CriticalPoint:
    """What ``classify_critical_point`` found.

    Attributes:
        kind: one of ``KINDS``: "local minimum", "local maximum", "saddle point",
            "flat (second order cannot tell)" (semi-definite H with zero eigenvalues), or
            "not critical" (‖g‖ ≥ the gradient tolerance).
        minimum_ratio: share of positive eigenvalues.
        gradient_norm: ‖g‖.
        minimum_like: the homework rule, ‖g‖ < 1e-3 and minimum ratio > 0.5.
    """

    kind: str
    minimum_ratio: float
    gradient_norm: float
    minimum_like: bool


def classify_critical_point(
    eigenvalues, gradient_norm, gradient_tol=1e-3, ratio_threshold=0.5, zero_tol=1e-6
):
    """Classify a point from the Hessian's eigenvalues and the gradient norm (ML2021 L04).

    Eigenvalues with ``|λ| ≤ zero_tol · max|λ|`` count as zero for ``kind`` (they are round-off);
    the minimum ratio counts ``λ > 0`` exactly as the homework did.

    Args:
        eigenvalues: all eigenvalues of H (1-D).
        gradient_norm: ‖g‖ at the point.
        gradient_tol: the point is critical when ‖g‖ < gradient_tol (homework: 1e-3).
        ratio_threshold: minimum ratio above which the homework calls it a local minimum (0.5).
        zero_tol: relative size below which an eigenvalue is treated as zero.

    Returns:
        A ``CriticalPoint``.
    """
    eigenvalues = np.asarray(eigenvalues, dtype="float64")
    if eigenvalues.ndim != 1 or eigenvalues.size == 0:
        raise ValueError(
            f"eigenvalues must be a non-empty 1-D array, got shape {eigenvalues.shape}"
        )
    if not gradient_norm >= 0:
        raise ValueError(f"gradient_norm must be a non-negative number, got {gradient_norm}")
    if not gradient_tol > 0:
        raise ValueError(f"gradient_tol must be positive, got {gradient_tol}")
    if not 0 <= ratio_threshold < 1:
        raise ValueError(f"ratio_threshold must be in [0, 1), got {ratio_threshold}")
    if not 0 <= zero_tol < 1:
        raise ValueError(f"zero_tol must be in [0, 1), got {zero_tol}")
    ratio = minimum_ratio(eigenvalues)
    critical = gradient_norm < gradient_tol
    scale = np.max(np.abs(eigenvalues))
    zero = np.abs(eigenvalues) <= zero_tol * scale
    positive, negative = np.any((eigenvalues > 0) & ~zero), np.any((eigenvalues < 0) & ~zero)
    if not critical:
        kind = "not critical"
    elif positive and negative:
        kind = "saddle point"
    elif np.any(zero):
        kind = "flat (second order cannot tell)"
    else:
        kind = "local minimum" if positive else "local maximum"
    return CriticalPoint(
        kind, ratio, float(gradient_norm), bool(critical and ratio > ratio_threshold)
    )


def escape_direction(eigenvalues, eigenvectors):
    """The unit eigenvector of the most negative eigenvalue, or None when no eigenvalue is negative.

    Moving from a saddle point θ' along it lowers the loss: L(θ' ± t·u) ≈ L(θ') + ½ λ_min t².

    Args:
        eigenvalues: shape (m,).
        eigenvectors: shape (n, m), column i belongs to eigenvalue i (as ``np.linalg.eigh``
            returns).
    """
    eigenvalues, eigenvectors = np.asarray(eigenvalues), np.asarray(eigenvectors)
    if eigenvectors.ndim != 2 or eigenvectors.shape[1] != eigenvalues.shape[0]:
        raise ValueError(
            f"eigenvectors must have one column per eigenvalue, got shapes {eigenvalues.shape} and "
            f"{eigenvectors.shape}"
        )
    i = int(np.argmin(eigenvalues))
    if eigenvalues[i] >= 0:
        return None
    u = eigenvectors[:, i]
    return u / np.linalg.norm(u)


@dataclasses.dataclass(frozen=True)
class CurvatureCheck:
    """Whether the loss really curves as an eigenvalue says, measured along its eigenvector.

    Attributes:
        eigenvalue: λ of the direction u.
        step: the step t at which the quadratic model is checked.
        measured: ``(L(θ + t·u) + L(θ − t·u)) / 2 − L(θ)`` (the gradient term cancels).
        predicted: ``½ λ t²``.
        confirmed: the measured change has the sign of λ, agrees with ``predicted`` within
            ``rtol``, at a step where the prediction stands above the round-off of the loss.
    """

    eigenvalue: float
    step: float
    measured: float
    predicted: float
    confirmed: bool


def check_curvature(surface, eigenvalue, direction, reach=1.0, points=40, rtol=0.5):
    """Test the second-order term of the Taylor expansion along one eigenvector.

    A tiny eigenvalue of a degenerate point can have a sign set by round-off; a real one bends the
    loss by ``½ λ t²``. The symmetric difference ``(L(θ+tu) + L(θ−tu))/2 − L(θ)`` removes the
    gradient term. It is compared with ``½ λ t²`` at the smallest step ``t`` (on a log grid up to
    ``reach``) whose predicted change is ten times the round-off of the loss
    (``100 · eps · |L|``, ``eps`` of the surface's dtype): smaller steps drown in round-off,
    larger ones in the higher-order terms. ``confirmed`` means the change there has λ's sign and
    matches ``½ λ t²`` within ``rtol``.

    Returns:
        A ``CurvatureCheck`` (``confirmed`` is False if no step up to ``reach`` is resolvable).
    """
    direction = np.asarray(direction, dtype="float64")
    direction = direction / np.linalg.norm(direction)
    base = surface.value()
    floor = 100 * np.finfo(surface.dtype).eps * max(abs(base), 1e-12)
    for t in np.geomspace(1e-6 * reach, reach, points):
        predicted = 0.5 * eigenvalue * t**2
        if abs(predicted) < 10 * floor:
            continue
        up, down = surface.loss_along(direction, [t, -t])
        measured = (up + down) / 2 - base
        agrees = np.sign(measured) == np.sign(eigenvalue) and abs(measured - predicted) <= (
            rtol * abs(predicted)
        )
        return CurvatureCheck(
            float(eigenvalue), float(t), float(measured), float(predicted), bool(agrees)
        )
    return CurvatureCheck(
        float(eigenvalue), float(reach), 0.0, float(0.5 * eigenvalue * reach**2), False
    )
