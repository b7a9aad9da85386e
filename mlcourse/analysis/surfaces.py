"""Two-parameter error surfaces and optimizer trajectories over them (ML2021 L06, error surface).

Lecture 6 opens with a convex error surface that gradient descent still cannot cross: an elongated
bowl, steep along one weight and nearly flat along the other. One learning rate is either too large
for the steep direction (oscillation) or too small for the flat one (crawling); a σ per parameter
fixes both. This module gives such surfaces as functions L(θ) of θ = (θ₀, θ₁), runs any Keras
optimizer on them from one start, and draws the paths over the contours:

* `elongated_bowl`: L(θ) = ½ (a θ₀² + b θ₁²), curvatures a ≪ b (the lecture's picture);
* `network_slice`: the mean squared error of a small tanh network with all but two weights frozen at
  a "teacher" network's values; the data are the teacher's outputs, so L = 0 at the teacher's two
  weights and the surface around it is curved and non-quadratic.

Both loss functions use `keras.ops` and broadcast over leading axes (θ of shape ``(..., 2)``), so
one call gives the contour grid and the same code gives the gradient for the optimizer.

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from mlcourse.backends import require_tensorflow

require_tensorflow("mlcourse.analysis.surfaces")

__all__ = [
    "Surface",
    "Trajectory",
    "elongated_bowl",
    "network_slice",
    "descend",
    "log_losses",
    "plot_trajectories",
]


@dataclasses.dataclass(frozen=True)
class Surface:
    """A loss over two parameters.

    Attributes:
        name: short name (used in figure titles and variant names).
        loss: ``θ (..., 2) -> L (...)`` written with `keras.ops`.
        start: the common starting point θ⁰.
        minimum: where the minimum is (for the plot and the distance to it).
        minimum_loss: L at the minimum.
        extent: ``((θ₀ min, θ₀ max), (θ₁ min, θ₁ max))`` for the contour plot.
        labels: the names of the two parameters.
    """

    name: str
    loss: Callable
    start: tuple
    minimum: tuple
    minimum_loss: float
    extent: tuple
    labels: tuple = ("θ₀", "θ₁")

    def __call__(self, theta):
        """L at θ (a NumPy array or tensor of shape (..., 2)), as a NumPy array."""
        return keras.ops.convert_to_numpy(
            self.loss(keras.ops.convert_to_tensor(np.asarray(theta, "float32")))
        )

    def target_loss(self, fraction=1e-3):
        """The loss reached after removing all but ``fraction`` of the start's excess over the
        minimum.
        """
        start_loss = float(self(self.start))
        return self.minimum_loss + fraction * (start_loss - self.minimum_loss)

    def grid(self, points=121):
        """``(θ₀ grid, θ₁ grid, L)`` over ``extent``, each of shape (points, points)."""
        (x0, x1), (y0, y1) = self.extent
        xs, ys = np.meshgrid(np.linspace(x0, x1, points), np.linspace(y0, y1, points))
        return xs, ys, self(np.stack([xs, ys], axis=-1))


def elongated_bowl(flat=1.0, steep=100.0, start=(-9.0, 0.9)):
    """L(θ) = ½ (flat · θ₀² + steep · θ₁²): curvature ``flat`` along θ₀, ``steep`` along θ₁.

    Gradient descent is stable only for η < 2/steep and then needs about
    (1/(η·flat))·ln(1/tolerance) steps along the flat direction: the condition number steep/flat is
    the number of steps it wastes.

    Args:
        flat: curvature along θ₀ (> 0).
        steep: curvature along θ₁ (> 0).
        start: θ⁰.

    Returns:
        A `Surface` with its minimum 0 at (0, 0).
    """
    if not flat > 0 or not steep > 0:
        raise ValueError(f"flat and steep must be > 0, got flat={flat}, steep={steep}")

    def loss(theta):
        return 0.5 * (flat * ops.square(theta[..., 0]) + steep * ops.square(theta[..., 1]))

    w, b = abs(start[0]) * 1.15, abs(start[1]) * 1.3
    return Surface(
        "elongated-bowl",
        loss,
        tuple(map(float, start)),
        (0.0, 0.0),
        0.0,
        ((-w, w), (-b, b)),
        ("w (flat)", "b (steep)"),
    )


def network_slice(
    units=4, samples=64, seed=0, start=(3.8, -1.5), extent=((-3.0, 4.5), (-2.0, 2.5))
):
    """The MSE of a small tanh network along two of its weights, all others frozen at a teacher's
    values.

    The teacher f(x) = Σₕ cₕ tanh(wₕ x + bₕ) with ``units`` hidden units and random weights labels
    ``samples`` points x ∈ [−2, 2]. The surface moves unit 0's input weight w₀ (θ₀) and output
    weight c₀ (θ₁):

        L(θ) = mean over x of (θ₁ tanh(θ₀ x + b₀) + Σₕ₌₁ cₕ tanh(wₕ x + bₕ) − f(x))²

    Its minimum L = 0 is at the teacher's (w₀, c₀) = (1.5, 1.0); along θ₀ the curvature shrinks as
    tanh saturates, so the valley bends and flattens (the default start sits on that plateau). Near
    the mirror image (−w₀, −c₀) there is a second, local minimum (L ≈ 0.05 for the default seed).

    Args:
        units: hidden units of the teacher (≥ 1).
        samples: number of inputs.
        seed: seed for the teacher's weights.
        start: θ⁰.
        extent: contour window.

    Returns:
        A `Surface`.
    """
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 1.5, units).astype("float32")
    b = rng.normal(0.0, 0.5, units).astype("float32")
    c = rng.normal(0.0, 1.0, units).astype("float32")
    w[0], c[0] = 1.5, 1.0  # unit 0: a clearly visible minimum at (1.5, 1.0)
    x = np.linspace(-2.0, 2.0, samples).astype("float32")
    hidden = np.tanh(np.outer(x, w) + b)
    y = hidden @ c
    rest = y - c[0] * hidden[:, 0]  # the frozen units' contribution

    def loss(theta):
        w0, c0 = theta[..., 0:1], theta[..., 1:2]
        prediction = c0 * ops.tanh(w0 * x + b[0]) + rest
        return ops.mean(ops.square(prediction - y), axis=-1)

    return Surface(
        "network-slice",
        loss,
        tuple(map(float, start)),
        (float(w[0]), float(c[0])),
        0.0,
        extent,
        ("w₀ (input weight)", "c₀ (output weight)"),
    )


@dataclasses.dataclass
class Trajectory:
    """The path of one optimizer: ``points`` (steps + 1, 2), ``losses`` (steps + 1,)."""

    label: str
    points: np.ndarray
    losses: np.ndarray

    def steps_to(self, target):
        """The first step at which the loss is ≤ ``target`` and stays there;
        None if it never does.
        """
        above = np.nonzero(~(self.losses <= target))[0]
        if len(above) == 0:
            return 0
        first = above[-1] + 1
        return int(first) if first < len(self.losses) else None

    @property
    def final_loss(self):
        return float(self.losses[-1])


def descend(surface, optimizer, steps, label=None):
    """Run ``optimizer`` for ``steps`` steps on ``surface`` from its start; return the `Trajectory`.

    The whole loop runs in one `tf.function` (one trace per optimizer), so a thousand steps take
    milliseconds. Any `keras.optimizers.Optimizer` works, with or without a learning-rate schedule.
    """
    theta = keras.Variable(np.asarray(surface.start, "float32"), name="theta", dtype="float32")
    optimizer.build([theta])

    @tf.function
    def loop():
        points = tf.TensorArray(tf.float32, size=steps + 1)
        losses = tf.TensorArray(tf.float32, size=steps + 1)
        for i in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = surface.loss(theta.value)
            points = points.write(i, theta.value)
            losses = losses.write(i, loss)
            optimizer.apply([tape.gradient(loss, theta.value)], [theta])
        points = points.write(steps, theta.value)
        losses = losses.write(steps, surface.loss(theta.value))
        return points.stack(), losses.stack()

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(
        "ERROR"
    )  # one trace per optimizer is the design, not the "retracing" TF warns about
    try:
        points, losses = loop()
    finally:
        logger.setLevel(level)
    return Trajectory(label or optimizer.name, points.numpy(), losses.numpy())


def log_losses(folder, trajectory, learning_rate=None, points=200):
    """Write the path's loss (and the learning rate used) as TensorBoard scalars in ``folder``.

    Args:
        folder: the event-file folder.
        trajectory: a `Trajectory`.
        learning_rate: the float or `LearningRateSchedule` the optimizer used; logged as
            ``learning_rate``.
        points: log about this many steps (every k-th step of a long path).
    """
    stride = max(1, len(trajectory.losses) // points)
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for step in range(0, len(trajectory.losses), stride):
            tf.summary.scalar("loss", float(trajectory.losses[step]), step=step)
            if learning_rate is not None:
                eta = learning_rate(step) if callable(learning_rate) else learning_rate
                tf.summary.scalar("learning_rate", float(eta), step=step)
    writer.close()


def plot_trajectories(axis, surface, trajectories, levels=25):
    """Draw ``surface``'s contours (log-spaced levels) and each trajectory's path on ``axis``.

    Paths alternate solid and dashed lines so that two paths on top of each other both stay visible.
    """
    xs, ys, zs = surface.grid()
    low = max(float(zs.min()), 1e-6 * float(zs.max()), 1e-12)
    bounds = np.geomspace(low, float(zs.max()), levels)
    axis.contourf(xs, ys, np.maximum(zs, low), levels=bounds, cmap="Blues_r", alpha=0.35)
    axis.contour(xs, ys, zs, levels=bounds, colors="0.55", linewidths=0.4)
    for i, trajectory in enumerate(trajectories):
        axis.plot(
            trajectory.points[:, 0],
            trajectory.points[:, 1],
            ".-" if i % 2 == 0 else ".--",
            ms=2,
            lw=1,
            label=trajectory.label,
        )
    axis.plot(*surface.start, "ko", ms=6)
    axis.plot(*surface.minimum, "r*", ms=12)
    (x0, x1), (y0, y1) = surface.extent
    axis.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=surface.labels[0], ylabel=surface.labels[1])
    return axis
