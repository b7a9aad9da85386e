"""Log the residual gate γ of every ``ImageSelfAttention`` layer once an epoch (TensorBoard Scalars).

ML2021 L11, self-attention for images (SAGAN): ``y = γ · attention(x) + x`` with ``γ = 0`` at the
start, so a CNN with the block begins as the plain CNN. How far ``|γ|`` moves from 0 is the
network's own answer to "how much non-local (self-attention) evidence do I want on top of my
convolutions?".
"""

import keras

__all__ = ["AttentionGateLogger", "attention_gates"]


def attention_gates(model):
    """``{layer name: γ}`` for every ``ImageSelfAttention`` in ``model`` (nested models included)."""
    from mlcourse.layers import ImageSelfAttention

    gates, stack = {}, list(model.layers)
    while stack:
        layer = stack.pop(0)
        if isinstance(layer, ImageSelfAttention):
            gates[layer.name] = float(keras.ops.convert_to_numpy(layer.gamma))
        stack.extend(getattr(layer, "layers", []))
    return gates


class AttentionGateLogger(keras.callbacks.Callback):
    """Write ``attention_gate/<layer>`` = γ at step 0 (before training) and after every epoch.

    Args:
        log_dir: folder for the event file (e.g. ``run.variant_dir(variant) / "train"``, beside the
            loss curves).

    Attributes:
        values: ``{layer name: [(epoch, γ), …]}`` as logged.
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = str(log_dir)
        self.values = {}
        self._writer = None

    def _log(self, step):
        import tensorflow as tf

        gates = attention_gates(self.model)
        with self._writer.as_default():
            for name, gamma in gates.items():
                self.values.setdefault(name, []).append((step, gamma))
                tf.summary.scalar(f"attention_gate/{name}", gamma, step=step)
        self._writer.flush()

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(self.log_dir)
        if int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) == 0:  # not on a resume
            self._log(0)

    def on_epoch_end(self, epoch, logs=None):
        self._log(epoch + 1)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
