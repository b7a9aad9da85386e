"""Histograms of each layer's outputs in TensorBoard (how distributions drift during training)."""

import keras

__all__ = ["ActivationHistogramLogger"]


class ActivationHistogramLogger(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs, log a histogram of the chosen layers' outputs on a fixed batch.

    Args:
        log_dir: folder for the event file.
        x: the probe batch.
        layer_names: layers to watch (default: every layer with weights). For pre-activation histograms
            (lecture 8), give the Dense/Conv layers that have no activation of their own.
        every_n_epochs: positive int.
    """

    def __init__(self, log_dir, x, layer_names=None, every_n_epochs=1):
        super().__init__()
        if int(every_n_epochs) < 1:
            raise ValueError(f"every_n_epochs must be a positive integer, got {every_n_epochs}")
        self.log_dir, self.x, self.layer_names, self.every_n_epochs = (
            str(log_dir),
            x,
            layer_names,
            int(every_n_epochs),
        )
        self._probe = None

    def _build_probe(self):
        names = self.layer_names or [layer.name for layer in self.model.layers if layer.weights]
        outputs = [self.model.get_layer(name).output for name in names]
        inputs = self.model.inputs
        self._probe = (names, keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        import tensorflow as tf

        if self._probe is None:
            self._build_probe()
        names, probe = self._probe
        outputs = probe(self.x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        writer = tf.summary.create_file_writer(self.log_dir)
        with writer.as_default():
            for name, value in zip(names, outputs):
                tf.summary.histogram(
                    f"activations/{name}", tf.cast(value, "float32"), step=epoch + 1
                )
        writer.close()
