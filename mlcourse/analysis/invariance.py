"""Invariance, measured: accuracy on test images rotated, scaled and shifted (ML2021 L09).

The lecture says a CNN is not invariant to scaling and rotation ("we need data augmentation"), while
translation it handles (the same shared filters fire wherever the pattern is; pooling then blurs
the exact place). This module turns that into numbers: warp every test image with one affine map
(the spatial transformer's bilinear sampler, ``mlcourse.layers.affine_sample``), classify, count.

A transform here is a ``(kind, amount)`` pair: ``("rotation", degrees)``, ``("scale", factor)`` or
``("shift", pixels)`` (diagonal: right and down by ``pixels``).
"""

import numpy as np
from matplotlib.figure import Figure

from mlcourse.layers.spatial_transformer import affine_sample, affine_theta

__all__ = ["ISSUE_TRANSFORMS", "transform_images", "accuracy_under_transforms", "plot_invariance"]

#: The transforms of the lecture-9 tutorial: rotations, scalings and shifts of the test set.
ISSUE_TRANSFORMS = (
    [("rotation", d) for d in (0, 15, 30, 45, 90)]
    + [("scale", s) for s in (0.7, 1.0, 1.3)]
    + [("shift", p) for p in (0, 2, 4)]
)


def _theta(kind, amount, image_size):
    if kind == "rotation":
        return affine_theta(rotation_degrees=amount, image_size=image_size)
    if kind == "scale":
        if amount <= 0:
            raise ValueError(f"a scale amount must be positive, got {amount!r}")
        return affine_theta(scale=amount, image_size=image_size)
    if kind == "shift":
        return affine_theta(shift=(amount, amount), image_size=image_size)
    raise ValueError(f"transform kind must be one of ('rotation', 'scale', 'shift'), got {kind!r}")


def transform_images(images, kind, amount, batch_size=2048):
    """Warp every image by the same transform (zeros come in at the borders).

    Args:
        images: ``(N, H, W, C)`` float array.
        kind, amount: ``"rotation"`` (degrees, counter-clockwise), ``"scale"`` (factor, > 1
            enlarges) or ``"shift"`` (pixels right and down).

    Returns:
        a float32 NumPy array of the same shape.
    """
    images = np.asarray(images, dtype="float32")
    theta = np.array([_theta(kind, amount, images.shape[1:3])], dtype="float32")
    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        out.append(np.asarray(affine_sample(chunk, np.repeat(theta, len(chunk), axis=0))))
    return np.concatenate(out)


def accuracy_under_transforms(models, images, labels, transforms=ISSUE_TRANSFORMS, batch_size=512):
    """Test accuracy of each model on each transformed copy of the test set.

    Args:
        models: ``{name: keras model}`` returning class scores.
        images, labels: the test set, ``(N, H, W, C)`` floats and ``(N,)`` integer labels.
        transforms: ``(kind, amount)`` pairs.

    Returns:
        one row (a dict) per transform:
        ``{"transform": kind, "amount": amount, name: accuracy, ...}``.
    """
    labels = np.asarray(labels)
    warped = np.concatenate([transform_images(images, kind, amount) for kind, amount in transforms])
    rows = [{"transform": kind, "amount": amount} for kind, amount in transforms]
    for name, model in models.items():  # one predict per model over every transformed copy
        predicted = np.argmax(model.predict(warped, batch_size=batch_size, verbose=0), axis=-1)
        correct = (predicted.reshape(len(transforms), len(labels)) == labels).mean(axis=1)
        for row, accuracy in zip(rows, correct, strict=False):
            row[name] = float(accuracy)
    return rows


def plot_invariance(rows, model_names):
    """One panel per transform kind: accuracy against the amount, one line per model."""
    kinds = list(dict.fromkeys(row["transform"] for row in rows))
    units = {"rotation": "degrees", "scale": "factor", "shift": "pixels (right and down)"}
    figure = Figure(figsize=(4.2 * len(kinds), 3.4))
    axes = figure.subplots(1, len(kinds), sharey=True, squeeze=False)
    for axis, kind in zip(axes[0], kinds, strict=False):
        mine = [row for row in rows if row["transform"] == kind]
        for name in model_names:
            axis.plot([r["amount"] for r in mine], [r[name] for r in mine], marker="o", label=name)
        axis.set_title(kind)
        axis.set_xlabel(units.get(kind, "amount"))
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    return figure
