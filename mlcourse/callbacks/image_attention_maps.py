"""Where does a pixel look? Self-attention over an image as TensorBoard images.

ML2021 L11, self-attention for images: each pixel (or patch) is a token, and row ``i`` of the
attention matrix is the distribution ``α'_{i,·}`` over all positions that query pixel ``i`` uses to
mix the values. A CNN's answer is fixed (its receptive field); self-attention's is learned and can
reach across the image. This module reshapes row ``i`` back onto the image grid, upsamples it to the
image size and draws it over the image.

Works for any layer called as ``layer(x, return_attention_scores=True)`` that returns weights
``(batch, N_q, N_k)`` or ``(batch, heads, N_q, N_k)`` over a square grid of positions:
``ImageSelfAttention``, ``TransformerEncoderBlock`` over patch tokens, and
``RelativePositionConvAttention`` (its zero-padded border keys are cropped away).
"""

import math

import keras
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from mlcourse.callbacks.attention_maps import attention_weights
from mlcourse.callbacks.figures import FigureSnapshots, log_figure
from mlcourse.validation import check_non_negative_int

__all__ = ["ImageAttentionMaps", "image_attention", "image_attention_figure"]


def _side(count, what):
    side = math.isqrt(count)
    if side * side != count:
        raise ValueError(f"{what} positions must form a square grid, got {count}")
    return side


def image_attention(model, layer_name, images, queries, head=None):
    """Attention of chosen query pixels over the image, upsampled to the image size.

    Args:
        model: a model taking ``images``.
        layer_name: its attention layer (see the module docstring).
        images: ``(batch, H, W, C)``.
        queries: ``[(row, col), …]`` pixels of the *image*; each is mapped to the grid position
            (pixel or patch) that covers it.
        head: None for the mean over heads, else one head's index.

    Returns:
        ``(batch, len(queries), H, W)`` float32; each map sums to 1 over the grid before the
        nearest-neighbour upsampling (so to ``(H·W)/N_k`` after it).
    """
    images = np.asarray(images, "float32")
    height, width = images.shape[1:3]
    weights = attention_weights(model, layer_name, images)
    weights = weights.mean(axis=1) if head is None else weights[:, head]  # (batch, N_q, N_k)
    side = _side(weights.shape[1], "query")
    key_side = _side(weights.shape[2], "key")
    pad = (key_side - side) // 2  # RelativePositionConvAttention: keys over the zero-padded image
    maps = []
    for row, col in queries:
        if not (0 <= row < height and 0 <= col < width):
            raise ValueError(
                f"queries must be pixels inside the {height}×{width} image, got {(row, col)}"
            )
        index = (row * side // height) * side + col * side // width
        grid = weights[:, index].reshape(-1, key_side, key_side)[
            :, pad : pad + side, pad : pad + side
        ]
        upsampled = keras.ops.image.resize(
            grid[..., None], (height, width), interpolation="nearest"
        )
        maps.append(keras.ops.convert_to_numpy(upsampled)[..., 0])
    return np.stack(maps, axis=1).astype("float32")


def image_attention_figure(images, maps, queries, title=""):
    """A figure: one row per image; the image with the query pixels,
    then each query's map over it.
    """
    images = np.asarray(images)
    count, columns = len(images), 1 + len(queries)
    figure = Figure(figsize=(2.0 * columns + 1.0, 2.0 * count + 0.5), layout="constrained")
    axes = figure.subplots(count, columns, squeeze=False)
    colours = colormaps["tab10"](np.arange(len(queries)) % 10)
    for n in range(count):
        grey = images[n, ..., 0] if images.ndim == 4 else images[n]
        axes[n, 0].imshow(grey, cmap="gray")
        for q, (row, col) in enumerate(queries):
            axes[n, 0].scatter(
                [col], [row], s=25, color=colours[q], edgecolors="white", linewidths=0.5
            )
            axes[n, q + 1].imshow(grey, cmap="gray")
            heat = axes[n, q + 1].imshow(maps[n, q], cmap="inferno", alpha=0.65, vmin=0.0)
            axes[n, q + 1].scatter([col], [row], s=25, marker="x", color=colours[q])
        for axis in axes[n]:
            axis.set_xticks([])
            axis.set_yticks([])
    axes[0, 0].set_title("image, queries", fontsize=8)
    for q, (row, col) in enumerate(queries):
        axes[0, q + 1].set_title(f"query ({row},{col})", fontsize=8, color=colours[q])
    figure.colorbar(heat, ax=axes, shrink=0.6, label="attention weight (mean over heads)")
    figure.suptitle(title, fontsize=9)
    return figure


class ImageAttentionMaps(FigureSnapshots):
    """Every few epochs, draw where chosen query pixels attend over a few images (TensorBoard
    Images).

    Args:
        log_dir: the TensorBoard run folder (e.g. ``run.variant_dir(variant)``); images go to
            ``<log_dir>/attention`` with tag ``attention/<layer name>``.
        layer_names: the attention layers to show (one image per layer).
        images: ``(batch, H, W, C)``, a few images (a handful: one figure row each).
        queries: ``[(row, col), …]`` image pixels whose attention is drawn.
        every: epochs between two snapshots (the last epoch is always written).
        head: None for the mean over heads, else one head.
    """

    def __init__(self, log_dir, layer_names, images, queries, every=1, head=None):
        super().__init__(log_dir, "attention", every)
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        if not layer_names:
            raise ValueError("layer_names must name at least one attention layer, got none")
        if not queries:
            raise ValueError("queries must hold at least one (row, col) pixel, got none")
        self.layer_names = list(layer_names)
        self.images, self.queries = np.asarray(images, "float32"), [tuple(q) for q in queries]
        self.head = None if head is None else check_non_negative_int("head", head)

    def write(self, step):
        """Write the maps of every layer now, at TensorBoard step ``step``."""
        for name in self.layer_names:
            maps = image_attention(self.model, name, self.images, self.queries, self.head)
            figure = image_attention_figure(
                self.images, maps, self.queries, title=f"{name}, epoch {step}"
            )
            log_figure(self.writer, f"attention/{name}", figure, step=step)
