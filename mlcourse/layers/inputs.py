"""Call-time input checks shared by the layers: what Keras's own layers check, as ValueErrors.

Once a layer is built, Keras checks ``layer.input_spec`` (rank, last dimension) before every call
and raises a ``ValueError`` naming the layer; the layers set it in ``build`` with ``input_spec``.
What an ``InputSpec`` cannot say, ``check_batch`` (an empty batch, which some backend ops fail on)
and ``check_mask`` (a padding mask that does not fit its inputs) check whenever the shapes are
known: always eagerly, and in a graph when they are static. NaN in the inputs is the
user's data and passes through.
"""

import keras

__all__ = ["check_batch", "check_mask", "input_spec"]


def input_spec(input_shape, ndim=None, min_ndim=None, max_ndim=None, axes=(-1,)):
    """Keras's ``InputSpec`` for later calls: the rank rule (default: the rank seen at build) and
    the sizes of ``axes`` seen at build (default: the last one)."""
    if ndim is None and min_ndim is None and max_ndim is None:
        ndim = len(input_shape)
    sizes = {axis: input_shape[axis] for axis in axes if input_shape[axis] is not None}
    return keras.layers.InputSpec(
        ndim=ndim, min_ndim=min_ndim, max_ndim=max_ndim, axes=sizes or None
    )


def check_batch(layer, inputs):
    """Refuse a batch known to be empty, naming the layer."""
    if inputs.shape and inputs.shape[0] == 0:
        raise ValueError(
            f"{layer.__class__.__name__} got an empty batch (inputs of shape "
            f"{tuple(inputs.shape)}); give it at least one example"
        )


def check_mask(layer, inputs, mask):
    """A padding mask must be ``(batch, T)`` for inputs ``(batch, T, ...)``."""
    if mask is None:
        return
    got, wanted = tuple(mask.shape), tuple(inputs.shape[:2])
    clash = len(got) != 2 or any(
        a is not None and b is not None and a != b for a, b in zip(got, wanted, strict=False)
    )
    if clash:
        raise ValueError(
            f"{layer.__class__.__name__} needs a padding mask of shape (batch, T) = {wanted}, got "
            f"a mask of shape {got}"
        )
