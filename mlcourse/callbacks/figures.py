"""Matplotlib figures to TensorBoard images (and PNG files), and a base for callbacks that draw
them.
"""

import io

import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback

__all__ = ["FigureSnapshots", "figure_to_image", "log_figure"]


def figure_to_image(figure, dpi=100):
    """Render a matplotlib figure to a ``(1, height, width, 4)`` uint8 tensor for
    ``tf.summary.image``.

    Build figures with ``matplotlib.figure.Figure`` (as mlcourse does): no pyplot state, no GUI
    backend, nothing to close.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    image = tf.image.decode_png(buffer.getvalue(), channels=4)
    return tf.expand_dims(image, 0)


def log_figure(writer, name, figure, step=0, png_path=None, dpi=100):
    """Write ``figure`` as a TensorBoard image ``name`` with ``writer``; also save it as PNG if
    asked.
    """
    if png_path is not None:
        figure.savefig(png_path, dpi=dpi, bbox_inches="tight")
    image = figure_to_image(figure, dpi=dpi)
    with writer.as_default():
        tf.summary.image(name, image, step=step)
    writer.flush()


class FigureSnapshots(SummaryCallback):
    """Base of callbacks that draw figures of the model every few epochs, and after the last epoch.

    A subclass implements ``write(step)`` and logs its figures with
    ``log_figure(self.writer, ...)``; ``self.writer`` writes to ``<log_dir>/<subfolder>`` (one
    TensorBoard run beside the training one).

    Args:
        log_dir: the TensorBoard run folder (e.g. ``run.variant_dir(variant)``).
        subfolder: the folder under ``log_dir`` for the images.
        every: epochs between two snapshots (the last epoch is always written).
    """

    def __init__(self, log_dir, subfolder, every=1):
        super().__init__(f"{log_dir}/{subfolder}", every, write_last=True)
