"""mlcourse.models.vision, the image-attention callbacks, nested subsets and the data-hunger verdict
(ML2021 L11).
"""

import numpy as np
import pytest

from mlcourse.analysis.data_efficiency import (
    accuracy_standard_error,
    data_hunger_verdict,
    plot_learning_curves,
)
from mlcourse.callbacks.attention_gate import AttentionGateLogger, attention_gates
from mlcourse.callbacks.attention_maps import attention_weights
from mlcourse.callbacks.image_attention_maps import ImageAttentionMaps, image_attention
from mlcourse.data.subsets import nested_stratified_subsets
from mlcourse.layers import ImageSelfAttention, RelativePositionConvAttention
from mlcourse.models import vision

import events


def images(count=3, seed=0):
    return np.random.default_rng(seed).random((count, 28, 28, 1)).astype("float32")


# ------------------------------------------------------------------------------------------ models
def test_the_three_models_have_comparable_parameter_counts_and_logit_outputs():
    counts = {}
    for name in vision.BUILDERS:
        model = vision.build(name)
        assert tuple(model(images()).shape) == (3, 10)
        counts[name] = model.count_params()
    assert max(counts.values()) <= 1.25 * min(counts.values()), counts
    assert counts["cnn+self-attention"] > counts["cnn"]  # the same CNN plus the attention block


def test_cnn_with_a_shut_gate_computes_the_plain_cnn():
    plain, gated = vision.cnn(), vision.cnn(attention=True)
    attention = gated.get_layer(vision.ATTENTION_LAYER)
    assert isinstance(attention, ImageSelfAttention) and attention_gates(gated) == {
        vision.ATTENTION_LAYER: 0.0
    }
    plain.set_weights(
        [w for layer in gated.layers if layer is not attention for w in layer.get_weights()]
    )
    np.testing.assert_allclose(gated(images()), plain(images()), atol=1e-5)
    attention.gamma.assign(0.5)
    assert np.abs(np.asarray(gated(images())) - np.asarray(plain(images()))).max() > 1e-4


def test_attention_layers_are_found_and_bad_arguments_named():
    assert vision.attention_layer_names(vision.cnn()) == []
    assert vision.attention_layer_names(vision.cnn(attention=True)) == [vision.ATTENTION_LAYER]
    assert vision.attention_layer_names(vision.attention_net(depth=3)) == [
        "encoder_1",
        "encoder_2",
        "encoder_3",
    ]
    with pytest.raises(ValueError, match="patch"):
        vision.attention_net(patch=5)
    with pytest.raises(ValueError, match="filters"):
        vision.cnn(filters=(8, 8, 8))
    with pytest.raises(ValueError, match="name"):
        vision.build("resnet")


# ---------------------------------------------------------------------------------- attention maps
def test_attention_weights_of_image_layers_have_their_shapes_and_rows_sum_to_one():
    sagan = attention_weights(vision.cnn(attention=True), vision.ATTENTION_LAYER, images())
    assert sagan.shape == (3, 1, 14 * 14, 14 * 14)
    vit = attention_weights(vision.attention_net(patch=4, num_heads=4), "encoder_2", images())
    assert vit.shape == (3, 4, 49, 49)
    for weights in (sagan, vit):
        np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_image_attention_maps_are_upsampled_rows_of_the_attention_matrix():
    model = vision.attention_net(patch=4, num_heads=2)
    x, queries = images(), [(0, 0), (14, 14), (27, 3)]
    maps = image_attention(model, "encoder_1", x, queries)
    assert maps.shape == (3, 3, 28, 28)
    np.testing.assert_allclose(
        maps.sum(axis=(-1, -2)), 16.0, rtol=1e-4
    )  # each 7×7 cell becomes 4×4 pixels
    weights = attention_weights(model, "encoder_1", x).mean(axis=1)
    row = weights[:, 3 * 7 + 3].reshape(-1, 7, 7)  # pixel (14, 14) lies in patch (3, 3)
    np.testing.assert_allclose(maps[:, 1, ::4, ::4], row, atol=1e-6)
    one_head = image_attention(model, "encoder_1", x, queries, head=1)
    assert not np.allclose(one_head, maps)
    with pytest.raises(ValueError, match="queries"):
        image_attention(model, "encoder_1", x, [(28, 0)])


def test_image_attention_crops_the_padded_keys_of_conv_attention():
    import keras

    model = keras.Sequential(
        [keras.Input((8, 8, 2)), RelativePositionConvAttention(3, 2, name="conv_attention")]
    )
    maps = image_attention(
        model, "conv_attention", np.random.default_rng(1).random((2, 8, 8, 2)), [(4, 4), (0, 0)]
    )
    assert maps.shape == (2, 2, 8, 8)
    # Each of the 9 heads looks at one pixel of the 3×3 window around the query (sharpness 50).
    np.testing.assert_allclose(maps[:, 0].sum(axis=(-1, -2)), 1.0, atol=1e-3)
    np.testing.assert_allclose(maps[:, 0, 3:6, 3:6], 1 / 9, atol=1e-3)
    # At the corner 5 of the 9 heads look at the zero padding, which is cropped away: 4/9 is left.
    np.testing.assert_allclose(maps[:, 1].sum(axis=(-1, -2)), 4 / 9, atol=1e-3)
    np.testing.assert_allclose(maps[:, 1, :2, :2], 1 / 9, atol=1e-3)


def event_tags(folder):
    return events.values(folder)


def test_callbacks_log_attention_images_and_the_gate_each_epoch(tmp_path):
    import keras

    model = vision.cnn(attention=True, filters=(8, 8))
    model.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x, y = images(32), np.arange(32) % 10
    gates = AttentionGateLogger(tmp_path / "train")
    maps = ImageAttentionMaps(
        tmp_path, [vision.ATTENTION_LAYER], x[:2], [(5, 5), (20, 20)], every=2
    )
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[gates, maps])
    steps, values = zip(*gates.history[vision.ATTENTION_LAYER], strict=True)
    assert (
        steps == (0, 1, 2, 3) and values[0] == 0.0 and values[-1] != 0.0
    )  # γ starts shut and moves
    logged = event_tags(tmp_path / "train")["attention_gate/image_attention"]
    assert [step for step, _ in logged] == [0, 1, 2, 3]
    pictures = event_tags(tmp_path / "attention")["attention/image_attention"]
    assert [step for step, _ in pictures] == [2, 3]  # every 2 epochs, and the last one
    with pytest.raises(ValueError, match="every"):
        ImageAttentionMaps(tmp_path, ["a"], x[:1], [(0, 0)], every=0)
    with pytest.raises(ValueError, match="queries"):
        ImageAttentionMaps(tmp_path, ["a"], x[:1], [])


# ----------------------------------------------------------------------------------------- subsets
def test_subsets_are_nested_stratified_and_seeded():
    labels = np.repeat(np.arange(4), [100, 50, 200, 10])
    subsets = nested_stratified_subsets(labels, (0.1, 0.3, 1.0), seed=3)
    assert set(subsets[0.1]) <= set(subsets[0.3]) <= set(subsets[1.0]) == set(range(len(labels)))
    assert np.bincount(labels[subsets[0.1]]).tolist() == [10, 5, 20, 1]
    assert np.array_equal(subsets[0.3], nested_stratified_subsets(labels, (0.3,), seed=3)[0.3])
    assert not np.array_equal(subsets[0.3], nested_stratified_subsets(labels, (0.3,), seed=4)[0.3])
    with pytest.raises(ValueError, match="fractions"):
        nested_stratified_subsets(labels, (0.0,))


# ----------------------------------------------------------------------------------------- verdict
def curves(cnn, attention):
    return {
        "cnn": dict(zip((0.1, 0.3, 1.0), cnn, strict=True)),
        "attention": dict(zip((0.1, 0.3, 1.0), attention, strict=True)),
    }


def test_the_verdict_follows_the_numbers():
    supported = data_hunger_verdict(
        curves((0.85, 0.88, 0.90), (0.75, 0.83, 0.90)), "cnn", "attention", 10000
    )
    assert supported["verdict"] == "supported" and supported["overtakes"] is False
    assert supported["gap_small"] == pytest.approx(0.10) and supported["shrink"] == pytest.approx(
        0.10
    )
    grows = data_hunger_verdict(
        curves((0.85, 0.88, 0.90), (0.84, 0.85, 0.85)), "cnn", "attention", 10000
    )
    assert grows["verdict"] == "contradicted"
    noisy = data_hunger_verdict(
        curves((0.85, 0.88, 0.90), (0.83, 0.86, 0.895)), "cnn", "attention", 300
    )
    assert (
        noisy["verdict"] == "inconclusive"
    )  # the same shape on 300 test images is within the noise
    overtakes = data_hunger_verdict(
        curves((0.85, 0.88, 0.90), (0.80, 0.88, 0.93)), "cnn", "attention", 10000
    )
    assert overtakes["verdict"] == "supported" and overtakes["overtakes"] is True
    with pytest.raises(ValueError, match="challenger"):
        data_hunger_verdict(curves((0.8,) * 3, (0.8,) * 3), "cnn", "vit", 100)
    assert accuracy_standard_error(0.9, 10000) == pytest.approx(0.003)


def test_learning_curve_figure_has_one_line_per_model():
    figure = plot_learning_curves(curves((0.85, 0.88, 0.90), (0.75, 0.83, 0.91)), test_count=1000)
    axis = figure.axes[0]
    assert [text.get_text() for text in axis.get_legend().get_texts()] == ["cnn", "attention"]
    assert axis.get_xscale() == "log"
