"""Image classifiers for "does self-attention need more data than a CNN?" (Fashion-MNIST, 28×28×1).

ML2021 L11, self-attention for images: a CNN looks only inside its receptive field, self-attention
at every pixel, and "CNN is a simplified (restricted) self-attention" — so self-attention is the
more flexible model, which overfits on little data and can beat the CNN on a lot of it. Three
builders with comparable parameter counts put that to the test:

* ``cnn()``: the lecture-9 CNN: two conv stages (3×3 conv + ReLU + 2×2 max-pool: 28 → 14 → 7),
  flatten, one fully connected layer to the logits;
* ``cnn(attention=True)``: the same CNN with ``mlcourse.layers.ImageSelfAttention`` (SAGAN, gate
  ``γ = 0`` at the start) after the first conv stage, so it begins as exactly the CNN and learns how
  much non-local evidence to let in;
* ``attention_net()``: a ViT-style model — a ``patch×patch`` stride-``patch`` convolution cuts the
  image into ``(28/patch)²`` tokens, a learned ``PositionEmbedding`` says where each one is, then
  ``mlcourse.layers.TransformerEncoderBlock``\\ s attend over all positions; mean over tokens, then
  the classifier. Apart from the patch stem nothing in it is local.

All three output logits ``(batch, 10)``. The attention layers are named (``ATTENTION_LAYER`` /
``"encoder_1"`` …) so ``mlcourse.callbacks.image_attention_maps`` can show where a pixel looks.

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import keras

from mlcourse.backends import require_tensorflow
from mlcourse.layers import ImageSelfAttention, PositionEmbedding, TransformerEncoderBlock
from mlcourse.validation import check_positive_int

require_tensorflow("mlcourse.models.vision")

__all__ = ["ATTENTION_LAYER", "BUILDERS", "attention_layer_names", "attention_net", "build", "cnn"]

#: The name of the ImageSelfAttention layer in ``cnn(attention=True)``.
ATTENTION_LAYER = "image_attention"

L = keras.layers


def cnn(
    attention=False,
    filters=(32, 64),
    dropout=0.3,
    reduction=8,
    num_classes=10,
    input_shape=(28, 28, 1),
    name=None,
):
    """The lecture-9 CNN (conv, pool, conv, pool, flatten, fully connected), optionally with SAGAN
    attention.

    Two stages of 3×3 conv + ReLU + 2×2 max-pool (28 → 14 → 7), then flatten, dropout and one dense
    layer to the logits.

    Args:
        attention: insert ``ImageSelfAttention(reduction)`` (named ``ATTENTION_LAYER``) after the
            first stage, at ``H/2 × W/2`` resolution.
        filters: the two conv widths.
        dropout: before the output layer.
        reduction: the query/key channel reduction ``r`` of the attention block.

    Returns:
        A ``keras.Sequential`` with its input shape given; logits ``(batch, classes)``.
    """
    if len(filters) != 2:
        raise ValueError(f"filters must be two conv widths, got {filters!r}")
    widths = [check_positive_int("filters", f) for f in filters]
    layers = [
        keras.Input(input_shape),
        L.Conv2D(widths[0], 3, padding="same", activation="relu", name="conv1"),
        L.MaxPooling2D(name="pool1"),
    ]
    if attention:
        layers.append(ImageSelfAttention(reduction=reduction, name=ATTENTION_LAYER))
    layers += [
        L.Conv2D(widths[1], 3, padding="same", activation="relu", name="conv2"),
        L.MaxPooling2D(name="pool2"),
        L.Flatten(),
        L.Dropout(dropout),
        L.Dense(num_classes, name="logits"),
    ]
    return keras.Sequential(layers, name=name or ("cnn_attention" if attention else "cnn"))


def attention_net(
    patch=4,
    units=56,
    num_heads=4,
    ff_dim=112,
    depth=2,
    dropout=0.1,
    num_classes=10,
    input_shape=(28, 28, 1),
    name="attention_net",
):
    """A ViT-style classifier: patch embedding + learned positions + ``depth`` Transformer encoder
    blocks.

    Args:
        patch: side of the square patches (must divide the image side); ``(H/patch)·(W/patch)``
            tokens.
        units, num_heads, ff_dim, dropout: of each ``TransformerEncoderBlock`` (pre-norm).
        depth: how many encoder blocks (named ``encoder_1`` … ``encoder_<depth>``).

    Returns:
        A ``keras.Sequential``, logits ``(batch, classes)``.
    """
    check_positive_int("patch", patch)
    check_positive_int("depth", depth)
    height, width = input_shape[:2]
    if height % patch or width % patch:
        raise ValueError(f"patch must divide the image size {height}×{width}, got {patch}")
    tokens = (height // patch) * (width // patch)
    layers = [
        keras.Input(input_shape),
        L.Conv2D(units, patch, strides=patch, name="patch_embedding"),
        L.Reshape((tokens, units)),
        PositionEmbedding(tokens, name="positions"),
    ]
    layers += [
        TransformerEncoderBlock(
            units, num_heads, ff_dim, dropout=dropout, norm_first=True, name=f"encoder_{i}"
        )
        for i in range(1, depth + 1)
    ]
    layers += [
        L.LayerNormalization(epsilon=1e-5),
        L.GlobalAveragePooling1D(),
        L.Dense(num_classes, name="logits"),
    ]
    return keras.Sequential(layers, name=name)


#: The three models of the comparison, by name.
BUILDERS = {
    "cnn": cnn,
    "cnn+self-attention": lambda **kw: cnn(attention=True, **kw),
    "attention": attention_net,
}


def build(name, **options):
    """One of ``BUILDERS`` by name (``"cnn"``, ``"cnn+self-attention"``, ``"attention"``)."""
    if name not in BUILDERS:
        raise ValueError(f"name must be one of {sorted(BUILDERS)}, got {name!r}")
    return BUILDERS[name](**options)


def attention_layer_names(model):
    """The names of the layers of ``model`` that can return attention scores over image
    positions.
    """
    kinds = (ImageSelfAttention, TransformerEncoderBlock)
    return [layer.name for layer in model.layers if isinstance(layer, kinds)]
