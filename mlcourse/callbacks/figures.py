"""Matplotlib figures to TensorBoard images (and PNG files)."""

import io

__all__ = ["figure_to_image", "log_figure"]


def figure_to_image(figure, dpi=100):
    """Render a matplotlib figure to a ``(1, height, width, 4)`` uint8 tensor for ``tf.summary.image``.

    The figure is closed afterwards (it has been drawn; keeping it open only leaks memory).
    """
    import matplotlib.pyplot as plt
    import tensorflow as tf

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    image = tf.image.decode_png(buffer.getvalue(), channels=4)
    return tf.expand_dims(image, 0)


def log_figure(writer, name, figure, step=0, png_path=None, dpi=100):
    """Write ``figure`` as a TensorBoard image ``name`` with ``writer``; also save it as PNG if asked."""
    import tensorflow as tf

    if png_path is not None:
        figure.savefig(png_path, dpi=dpi, bbox_inches="tight")
    image = figure_to_image(figure, dpi=dpi)
    with writer.as_default():
        tf.summary.image(name, image, step=step)
    writer.flush()
