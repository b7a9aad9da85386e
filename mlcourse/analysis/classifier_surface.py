"""Lecture 7's two-parameter classifier: its cross-entropy and MSE loss surfaces, side by side.

ML2021 L07, "the loss can matter too". The smallest classifier with a softmax that still has a loss
*surface*: one input ``x``, one weight ``w``, one bias ``b``, and two classes::

    z  = w·x + b                    the one learned score
    y  = (−z, +z)                   the two logits (a fixed, untrained layer)
    y' = softmax(y) = (σ(−2z), σ(2z))
    e_CE  = −Σ_i ŷ_i ln y'_i                  e_MSE = ½ Σ_i (ŷ_i − y'_i)²

Class 0 sits at ``x ≈ −1`` and class 1 at ``x ≈ +1``, so the good region is ``w > 0``. Start with a
large negative ``w`` and every logit is large and wrong. There ``y'`` is saturated: the MSE surface
is a flat plateau (its gradient carries a factor ``y'_i (1 − y'_i) ≈ 0``) while the cross-entropy
surface still slopes down toward the good region (its gradient is ``y' − ŷ ≈ ±1``).
``tutorials/l07_classification_loss.py`` trains from such a start with each loss.
"""

import keras
import numpy as np
from matplotlib.figure import Figure

from mlcourse.losses import cross_entropy, probability_mse

__all__ = [
    "LOSSES",
    "accuracy",
    "build_classifier",
    "loss_along",
    "loss_surface",
    "plot_surfaces",
    "steps_to_accuracy",
    "two_class_data",
]

#: The two losses compared, by name, as functions of (one-hot labels, logits) -> per-sample loss.
LOSSES = {
    "cross-entropy": lambda y_true, logits: cross_entropy(y_true, logits, from_logits=True),
    "mse": lambda y_true, logits: probability_mse(y_true, logits, from_logits=True),
}


def two_class_data(n=200, spread=0.5, seed=0):
    """``n`` points on a line: class 0 around ``x = −1``, class 1 around ``x = +1`` (std
    ``spread``).

    Returns:
        ``(x, y)``: ``x`` float32 ``(n, 1)``, ``y`` one-hot float32 ``(n, 2)``.
    """
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if not spread > 0:
        raise ValueError(f"spread must be a positive number, got {spread!r}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    x = (2.0 * labels - 1.0) + spread * rng.normal(size=n)
    return x[:, None].astype("float32"), np.eye(2, dtype="float32")[labels]


def build_classifier(w, b):
    """The Keras model ``x -> (−(w·x + b), w·x + b)``: two trainable parameters, two logits.

    Args:
        w, b: the starting weight and bias (e.g. a bad start ``w = −6``).

    Returns:
        An uncompiled ``keras.Model`` whose trainable weights are exactly ``[w]`` (kernel) and
        ``[b]``.
    """
    return keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(
                1,
                kernel_initializer=keras.initializers.Constant(w),
                bias_initializer=keras.initializers.Constant(b),
                name="score",
            ),
            keras.layers.Dense(
                2,
                use_bias=False,
                kernel_initializer=keras.initializers.Constant([[-1.0, 1.0]]),
                trainable=False,
                name="two_logits",
            ),
        ],
        name="two_parameter_classifier",
    )


def _logits(w, b, x):
    """Logits for every grid point at once: ``w``, ``b`` broadcast, ``x`` (n, 1) -> (..., n, 2)."""
    z = np.asarray(w, "float32")[..., None] * x[:, 0] + np.asarray(b, "float32")[..., None]
    return np.stack([-z, z], axis=-1)


def loss_surface(loss, x, y, w_grid, b_grid):
    """The mean loss over the data at every ``(b, w)`` grid point.

    Args:
        loss: a name in ``LOSSES``.
        x, y: the data from ``two_class_data``.
        w_grid, b_grid: 1-D arrays of weights and biases.

    Returns:
        An array ``(len(b_grid), len(w_grid))`` (rows: ``b``, columns: ``w``, as ``imshow`` wants).
        ``"mse"`` averages over the two classes (``½ Σ_i``), as ``keras.losses.MeanSquaredError``
        does.
    """
    ww, bb = np.meshgrid(np.asarray(w_grid, "float32"), np.asarray(b_grid, "float32"))
    return loss_along(loss, ww, bb, x, y)


def loss_along(loss, ws, bs, x, y):
    """The mean loss at each point ``(ws[...], bs[...])``:
    a path (a training trajectory) or a grid.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")

    ws, bs = np.asarray(ws, "float32"), np.asarray(bs, "float32")
    per_sample = LOSSES[loss](np.broadcast_to(y, ws.shape + y.shape), _logits(ws, bs, x))
    return keras.ops.convert_to_numpy(keras.ops.mean(per_sample, axis=-1))


def accuracy(w, b, x, y):
    """Fraction of points classified correctly by ``(w, b)``; ``w``, ``b`` may be arrays (a
    trajectory).
    """
    predicted = _logits(w, b, x).argmax(-1)
    return (predicted == y.argmax(-1)).mean(-1)


def steps_to_accuracy(accuracies, threshold):
    """The first update count at which ``accuracies`` (one per update, from update 1) reaches
    ``threshold``.

    Returns ``None`` if it never does.
    """
    reached = np.flatnonzero(np.asarray(accuracies) >= threshold)
    return int(reached[0]) + 1 if len(reached) else None


def plot_surfaces(surfaces, w_grid, b_grid, trajectories=None):
    """Draw each loss surface as an image, with optional training paths on top.

    Args:
        surfaces: ``{loss name: array from loss_surface}``.
        w_grid, b_grid: the grids used.
        trajectories: ``{loss name: (ws, bs)}`` sequences of parameters visited, drawn on the panel
            of the same loss.

    Returns:
        A matplotlib figure, one panel per loss.
    """
    trajectories = trajectories or {}
    figure = Figure(figsize=(5.5 * len(surfaces), 4.5))
    axes = figure.subplots(1, len(surfaces), squeeze=False)
    extent = (w_grid[0], w_grid[-1], b_grid[0], b_grid[-1])
    for axis, (name, surface) in zip(axes[0], surfaces.items(), strict=False):
        image = axis.imshow(surface, origin="lower", extent=extent, aspect="auto", cmap="viridis")
        axis.contour(w_grid, b_grid, surface, levels=12, colors="white", linewidths=0.5, alpha=0.6)
        figure.colorbar(image, ax=axis, label="mean loss")
        if name in trajectories:
            ws, bs = trajectories[name]
            axis.plot(
                ws, bs, color="red", marker=".", markersize=3, linewidth=1, label="training path"
            )
            axis.plot(ws[:1], bs[:1], "o", color="orange", label="start")
            axis.legend(loc="upper left")
        axis.set(title=f"{name} loss surface", xlabel="w", ylabel="b")
    figure.tight_layout()
    return figure
