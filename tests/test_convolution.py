"""Lecture 9: the neuron version of convolution and pooling equals Keras's filter version;
the spatial transformer's identity start and known warps."""

import keras
import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf
from backend import gradients

from mlcourse.layers import (
    ReceptiveFieldAveragePooling2D,
    ReceptiveFieldConv2D,
    ReceptiveFieldMaxPooling2D,
    SpatialTransformer,
    affine_sample,
    affine_theta,
)


def _images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _twins(filters, kernel_size, strides, padding, input_shape):
    """A Keras Conv2D and a ReceptiveFieldConv2D holding the Conv2D's weights."""
    conv = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, bias_initializer="random_normal"
    )
    conv.build(input_shape)
    neurons = ReceptiveFieldConv2D(filters, kernel_size, strides=strides, padding=padding)
    neurons.build(input_shape)
    neurons.set_weights(conv.get_weights())
    return conv, neurons


CONV_SETTINGS = [  # (kernel_size, strides, channels); each under both paddings
    (3, 1, 1),
    (3, 2, 3),
    ((2, 3), 1, 4),
    ((2, 3), (2, 1), 4),
    (5, 2, 2),
    (1, 1, 3),
]


@pytest.mark.backends
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_neuron_version_equals_filter_version(padding):
    x = _images((3, 11, 10, 4))
    for kernel_size, strides, channels in CONV_SETTINGS:
        conv, neurons = _twins(6, kernel_size, strides, padding, x[..., :channels].shape)
        expected = keras.ops.convert_to_numpy(conv(x[..., :channels]))
        actual = keras.ops.convert_to_numpy(neurons(x[..., :channels]))
        assert (
            actual.shape == expected.shape == neurons.compute_output_shape(x[..., :channels].shape)
        )
        np.testing.assert_allclose(
            actual, expected, atol=1e-5, rtol=0, err_msg=f"{kernel_size=} {strides=}"
        )


def test_weights_in_another_order_give_other_numbers():
    """The equality above depends on the field being flattened in Conv2D's (k_h, k_w,
    C_in) order.
    """
    x = _images((2, 8, 8, 3))
    conv, neurons = _twins(4, 3, 1, "valid", x.shape)
    kernel, bias = conv.get_weights()
    neurons.set_weights([np.transpose(kernel, (1, 0, 2, 3)), bias])  # rows and columns swapped
    difference = np.abs(
        keras.ops.convert_to_numpy(neurons(x)) - keras.ops.convert_to_numpy(conv(x))
    )
    assert difference.max() > 1e-2


@pytest.mark.backends
def test_gradients_equal_conv2d_gradients():
    x = _images((2, 9, 9, 2))
    conv, neurons = _twins(3, 3, 2, "same", x.shape)
    grads = []
    for layer in (conv, neurons):

        def loss(layer=layer):
            return keras.ops.sum(keras.ops.sin(layer(x)))

        grads.append(gradients(loss, layer.trainable_variables)[1])
    for g_conv, g_neurons in zip(*grads, strict=True):
        np.testing.assert_allclose(g_neurons, g_conv, atol=1e-4, rtol=1e-5)


def test_trains_like_conv2d_in_a_model():
    x, y = _images((32, 8, 8, 1)), np.random.default_rng(1).integers(0, 3, 32)

    def model(conv_class):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                conv_class(4, 3, padding="same", activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(3),
            ]
        )
        model.compile(
            keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    for a, b in zip(model(keras.layers.Conv2D), model(ReceptiveFieldConv2D), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.backends
@pytest.mark.parametrize(
    "ours,keras_twin",
    [
        (ReceptiveFieldMaxPooling2D, keras.layers.MaxPooling2D),
        (ReceptiveFieldAveragePooling2D, keras.layers.AveragePooling2D),
    ],
)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_equals_keras_pooling(ours, keras_twin, padding):
    x = _images((2, 9, 8, 3)) - 2.0  # mostly negative, so a zero-padded max would be caught
    for pool_size, strides in [(2, None), (3, 1), (3, 2), ((2, 3), (1, 2))]:
        expected = keras.ops.convert_to_numpy(keras_twin(pool_size, strides, padding)(x))
        layer = ours(pool_size, strides, padding)
        actual = keras.ops.convert_to_numpy(layer(x))
        assert actual.shape == expected.shape == layer.compute_output_shape(x.shape)
        np.testing.assert_allclose(
            actual, expected, atol=1e-6, rtol=0, err_msg=f"{pool_size=} {strides=}"
        )


@pytest.mark.parametrize(
    "make,argument",
    [
        (lambda: ReceptiveFieldConv2D(2, (3, 9)), "kernel_size"),
        (lambda: ReceptiveFieldMaxPooling2D(9), "pool_size"),
    ],
)
def test_field_larger_than_input_with_valid_padding_is_rejected(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()(keras.Input((8, 8, 1)))


def test_field_larger_than_input_is_fine_with_same_padding():
    x = _images((1, 4, 4, 1))
    conv, neurons = _twins(2, 5, 1, "same", x.shape)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(neurons(x)), keras.ops.convert_to_numpy(conv(x)), atol=1e-5
    )


# ----------------------------------------------------------------------------- spatial transformer


def _transformer_with_theta(theta, image_shape):
    """A SpatialTransformer whose localisation net outputs ``theta`` for every image."""
    layer = SpatialTransformer(localization_filters=(4,), localization_units=8)
    layer.build(image_shape)
    layer.theta_layer.bias.assign(np.array(theta, dtype="float32"))
    return layer


def test_fresh_transformer_is_the_identity():
    x = _images((3, 28, 28, 2))
    layer = SpatialTransformer()
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x)), x, atol=1e-4
    )  # float32 grid round-off
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer.theta(x)), [[1, 0, 0, 0, 1, 0]] * 3, atol=0
    )


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_quarter_turn_theta_returns_the_rotated_image(quarter_turns):
    x = _images((2, 12, 12, 3))
    layer = _transformer_with_theta(affine_theta(90 * quarter_turns, image_size=(12, 12)), x.shape)
    expected = np.rot90(x, k=quarter_turns, axes=(1, 2))  # counter-clockwise on screen
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=1e-5)


def _scipy_warp(image, theta):
    """The same affine warp by SciPy's bilinear interpolation, zero outside (θ in (row, col)
    pixels).
    """
    (a, b, tx), (c, d, ty) = np.reshape(theta, (2, 3))
    size = image.shape[0]
    centre, half = np.full(2, (size - 1) / 2), (size - 1) / 2
    matrix = np.array([[d, c], [b, a]])
    offset = centre - matrix @ centre + half * np.array([ty, tx])
    return np.stack(
        [
            scipy.ndimage.affine_transform(
                image[..., k], matrix, offset, order=1, mode="grid-constant", cval=0.0
            )
            for k in range(image.shape[-1])
        ],
        axis=-1,
    )


@pytest.mark.parametrize(
    "rotation,scale,shift", [(30, 1.0, (0, 0)), (-45, 0.7, (2, -1)), (10, 1.3, (0.5, 3))]
)
def test_general_affine_theta_matches_scipy_bilinear_warp(rotation, scale, shift):
    x = _images((1, 16, 16, 2))
    theta = affine_theta(rotation, scale, shift, image_size=(16, 16))
    actual = keras.ops.convert_to_numpy(affine_sample(x, np.array([theta], dtype="float32")))[0]
    np.testing.assert_allclose(actual, _scipy_warp(x[0], theta), atol=1e-4)


def test_shift_theta_moves_content_by_pixels():
    x = _images((1, 10, 10, 1))
    moved = keras.ops.convert_to_numpy(
        affine_sample(x, np.array([affine_theta(shift=(2, 3), image_size=(10, 10))]))
    )
    np.testing.assert_allclose(moved[0, 3:, 2:], x[0, :-3, :-2], atol=1e-5)  # right by 2, down by 3
    np.testing.assert_allclose(moved[0, :3], 0, atol=1e-5)  # uncovered border reads zeros
    np.testing.assert_allclose(moved[0, :, :2], 0, atol=1e-5)


def test_sampler_gradient_with_respect_to_theta_matches_finite_differences():
    x = _images((1, 8, 8, 1))
    theta = tf.Variable(
        np.array([affine_theta(20, 1.1, (0.3, -0.4), image_size=(8, 8))], dtype="float64")
    )
    weights = _images((1, 8, 8, 1), seed=3).astype("float64")

    def objective(t):
        return tf.reduce_sum(tf.cast(affine_sample(x.astype("float64"), t), "float64") * weights)

    with tf.GradientTape() as tape:
        value = objective(theta)
    analytic = tape.gradient(value, theta).numpy()[0]
    eps = 1e-4
    numeric = [
        (objective(theta + eps * np.eye(6)[i]) - objective(theta - eps * np.eye(6)[i])).numpy()
        / (2 * eps)
        for i in range(6)
    ]
    np.testing.assert_allclose(analytic, numeric, rtol=2e-2, atol=1e-3)
    assert np.abs(analytic).max() > 1e-2


def test_output_size_and_mixed_precision_dtype():
    keras.mixed_precision.set_global_policy("mixed_float16")
    layer = SpatialTransformer(output_size=(14, 10))
    out = layer(_images((2, 28, 28, 1)))
    assert tuple(out.shape) == (2, 14, 10, 1) and out.dtype == "float16"


# ----------------------------------------------------------------------------- invariance and
# images


class _QuadrantModel:
    """Scores each image by the brightness of its four quadrants (classes 0-3: TL, TR, BL, BR)."""

    def predict(self, x, batch_size=None, verbose=0):
        half = x.shape[1] // 2
        quadrants = [x[:, :half, :half], x[:, :half, half:], x[:, half:, :half], x[:, half:, half:]]
        return np.stack([q.sum(axis=(1, 2, 3)) for q in quadrants], axis=-1)


def _quadrant_images(size=20):
    images = np.zeros((4, size, size, 1), dtype="float32")
    for label, (r, c) in enumerate([(3, 3), (3, 14), (14, 3), (14, 14)]):
        images[label, r : r + 3, c : c + 3] = 1.0
    return images, np.arange(4)


def test_accuracy_under_transforms_counts_what_the_transform_moves():
    from mlcourse.analysis import invariance

    images, labels = _quadrant_images()
    transforms = [
        ("rotation", 0),
        ("rotation", 90),
        ("rotation", 180),
        ("shift", 2),
        ("scale", 1.0),
    ]
    rows = invariance.accuracy_under_transforms(
        {"quadrants": _QuadrantModel()}, images, labels, transforms
    )
    assert [row["quadrants"] for row in rows] == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert [(row["transform"], row["amount"]) for row in rows] == transforms


def test_transform_images_rotates_counter_clockwise_and_rejects_unknown_kinds():
    from mlcourse.analysis import invariance

    x = _images((2, 12, 12, 1))
    np.testing.assert_allclose(
        invariance.transform_images(x, "rotation", 90), np.rot90(x, axes=(1, 2)), atol=1e-5
    )
    with pytest.raises(ValueError, match="kind"):
        invariance.transform_images(x, "shear", 10)


def test_filter_images_callback_writes_filters_and_feature_maps(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from mlcourse.callbacks.filter_images import FilterImages, tile_images

    assert tile_images(np.zeros((5, 3, 3))).shape == (
        2 * 4 - 1,
        3 * 4 - 1,
    )  # 2 rows, 3 columns, 1-pixel gaps
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            ReceptiveFieldConv2D(6, 3, name="conv1"),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    model.compile("sgd", "mse")
    callback = FilterImages(tmp_path, "conv1", _images((2, 8, 8, 1)), upscale=4)
    model.fit(_images((4, 8, 8, 1)), np.zeros((4, 2)), epochs=1, verbose=0, callbacks=[callback])
    events = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0}).Reload()
    assert set(events.Tags()["tensors"]) == {
        "filters/conv1",
        "feature_maps/conv1/0",
        "feature_maps/conv1/1",
    }
    with pytest.raises(ValueError, match="every"):
        FilterImages(tmp_path, "conv1", None, every=0)


def _tutorial_module():
    from mlcourse import tutorials

    return tutorials.load_module(next(t for t in tutorials.discover() if t.id == "l09-cnn"))


def test_tutorial_builds_every_model_of_the_full_mode():
    """Quick mode trains only some variants; every full-mode model must at least build and run."""
    tutorial = _tutorial_module()
    builders = [
        tutorial.fully_connected,
        tutorial.best_cnn,
        lambda: tutorial.best_cnn(conv=ReceptiveFieldConv2D),
    ]
    builders += [
        lambda options=options: tutorial.small_cnn(**options)
        for options in tutorial.VARIANTS.values()
    ]
    builders += list(tutorial.INVARIANCE_MODELS.values())
    for build in builders:
        model = build()
        assert tuple(model(_images((2, 28, 28, 1))).shape) == (2, 10)


def test_tutorial_smoke_mode(smoke_run):
    """The tutorial as a user runs it, in its own process (a fresh TensorFlow, like the CLI)."""
    import json

    run_dir = smoke_run("l09-cnn")
    assert "Test accuracy on transformed test images" in (run_dir / "summary.md").read_text()
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    assert {
        "fc-seed0",
        "cnn-seed0",
        "invariance-cnn_augment-seed0",
        "invariance-stn_augment-seed0",
    } <= set(state["variants"])
    invariance_rows = state["tables"]["Test accuracy on transformed test images (first seed)"]
    assert len(invariance_rows) == 11 and all(
        0 <= row["stn+augment"] <= 1 for row in invariance_rows
    )
    assert (run_dir / "invariance.png").exists()
    assert list((run_dir / "cnn-seed0" / "images").glob("events.out.tfevents.*"))
    claims = " ".join(v["claim"] for v in state["verdicts"])
    for words in ("beats a fully connected", "neuron version", "rotation and scaling", "shifts"):
        assert words in claims


def test_unknown_image_size_is_rejected_by_name():
    with pytest.raises(ValueError, match="input_shape"):
        ReceptiveFieldConv2D(2, 3)(keras.Input((None, None, 1)))
