"""Matplotlib figures to TensorBoard images (and PNG files), and a base for callbacks that draw them."""

import io

import keras
import tensorflow as tf

__all__ = ["FigureSnapshots", "figure_to_image", "log_figure"]


def figure_to_image(figure, dpi=100):
    """Render a matplotlib figure to a ``(1, height, width, 4)`` uint8 tensor for ``tf.summary.image``.

    Build figures with ``matplotlib.figure.Figure`` (as mlcourse does): no pyplot state, no GUI
    backend, nothing to close.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    image = tf.image.decode_png(buffer.getvalue(), channels=4)
    return tf.expand_dims(image, 0)


def log_figure(writer, name, figure, step=0, png_path=None, dpi=100):
    """Write ``figure`` as a TensorBoard image ``name`` with ``writer``; also save it as PNG if asked."""
    if png_path is not None:
        figure.savefig(png_path, dpi=dpi, bbox_inches="tight")
    image = figure_to_image(figure, dpi=dpi)
    with writer.as_default():
        tf.summary.image(name, image, step=step)
    writer.flush()


class FigureSnapshots(keras.callbacks.Callback):
    """Base of callbacks that draw figures of the model every few epochs, and after the last epoch.

    A subclass implements ``write(step)`` and logs its figures with ``log_figure(self.writer, ...)``;
    ``self.writer`` writes to ``<log_dir>/<subfolder>`` (one TensorBoard run beside the training one).

    Args:
        log_dir: the TensorBoard run folder (e.g. ``run.variant_dir(variant)``).
        subfolder: the folder under ``log_dir`` for the images.
        every: epochs between two snapshots (the last epoch is always written).
    """

    def __init__(self, log_dir, subfolder, every=1):
        super().__init__()
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        self.log_dir, self.subfolder, self.every = str(log_dir), subfolder, every
        self._writer, self._epochs, self._pending = None, 0, False

    @property
    def writer(self):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(f"{self.log_dir}/{self.subfolder}")
        return self._writer

    def write(self, step):
        """Draw and log the figures at TensorBoard step ``step``."""
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        self._epochs, self._pending = epoch + 1, (epoch + 1) % self.every != 0
        if not self._pending:
            self.write(epoch + 1)

    def on_train_end(self, logs=None):
        if self._pending:
            self.write(self._epochs)
            self._pending = False
        if self._writer is not None:
            self._writer.close()
            self._writer = None
