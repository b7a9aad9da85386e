"""A convolution layer's filters and feature maps as TensorBoard images (ML2021 L09, filter
version).

The filter-version story: each filter is a small ``k × k`` pattern detector; sliding it over the
image gives a *feature map* that is bright where the pattern is. This callback shows both: the first
input channel of every filter, and every filter's feature map for a few fixed images, each tiled
into one grid image (every tile scaled to [0, 1] on its own, so weak and strong filters are both
visible).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback, probe_model
from mlcourse.validation import check_int

__all__ = ["FilterImages", "tile_images"]


def tile_images(tiles, columns=None, gap=1):
    """Tile ``(n, h, w)`` arrays into one ``(rows·(h+gap), columns·(w+gap))`` grey image in [0,
    1].
    """
    tiles = np.asarray(tiles, dtype="float32")
    count, height, width = tiles.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    low = tiles.min(axis=(1, 2), keepdims=True)
    span = tiles.max(axis=(1, 2), keepdims=True) - low
    tiles = (tiles - low) / np.where(span > 0, span, 1.0)
    grid = np.ones((rows * (height + gap) - gap, columns * (width + gap) - gap), dtype="float32")
    for index, tile in enumerate(tiles):
        r, c = divmod(index, columns)
        grid[
            r * (height + gap) : r * (height + gap) + height,
            c * (width + gap) : c * (width + gap) + width,
        ] = tile
    return grid


class FilterImages(SummaryCallback):
    """Every ``every`` epochs, write ``filters/<layer>`` (the first input channel of every filter)
    and ``feature_maps/<layer>/<i>`` (the layer's output for probe image ``i``, one tile per
    filter). Works for ``keras.layers.Conv2D`` and ``mlcourse.layers.ReceptiveFieldConv2D`` (same
    kernel layout).

    Args:
        log_dir: folder for the event file (e.g. ``run.variant_dir(name) / "images"``).
        layer_name: the convolution layer to show.
        x: a few probe images ``(n, H, W, C)``; ``n`` feature-map images are written.
        every: epochs between two writes (positive int).
        upscale: each pixel becomes ``upscale × upscale`` (3×3 filters are tiny otherwise), 1-64.
    """

    def __init__(self, log_dir, layer_name, x, every=1, upscale=8):
        super().__init__(log_dir, every)
        self.layer_name, self.x = layer_name, x
        self.upscale = check_int("upscale", upscale, 1, 64)
        self._probe = None

    @staticmethod
    def _image(grid, scale):
        grid = np.kron(grid, np.ones((scale, scale), dtype="float32"))
        return grid[None, :, :, None]

    def write(self, step):
        """Write the images for ``step``."""
        layer = self.model.get_layer(self.layer_name)
        if self._probe is None:
            self._probe = probe_model(self.model, [self.layer_name])
        kernel = keras.ops.convert_to_numpy(layer.kernel)  # (k_h, k_w, C_in, filters)
        maps = keras.ops.convert_to_numpy(self._probe(self.x, training=False)).astype("float32")
        with self.writer.as_default():
            filters = tile_images(kernel[:, :, 0].transpose(2, 0, 1))
            tf.summary.image(
                f"filters/{self.layer_name}", self._image(filters, self.upscale), step=step
            )
            for i, image_maps in enumerate(maps):
                grid = tile_images(image_maps.transpose(2, 0, 1))
                tf.summary.image(
                    f"feature_maps/{self.layer_name}/{i}", self._image(grid, 2), step=step
                )
