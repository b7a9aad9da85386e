"""The lecture-2 model: a constant plus a sum of sigmoids (ML2021 L02, slides 13-30).

    y = b + Σ_i c_i · unit(b_i + Σ_j w_ij x_j)

One hidden layer of ``units`` neurons, each a ``unit`` of a linear function of the features, and a
linear read-out. With ``unit="relu"`` it is the lecture's ReLU network with one hidden layer.
"""

import keras
from keras import ops

from mlcourse.layers.inputs import input_spec
from mlcourse.validation import check_choice, check_positive_int

__all__ = ["SigmoidSum", "hard_sigmoid"]

UNITS = ("sigmoid", "hard_sigmoid", "relu")


def hard_sigmoid(z):
    """The lecture's hard sigmoid: flat 0, a ramp of slope 1 on [0, 1], flat 1; made of two ReLUs.

        hard_sigmoid(z) = relu(z) - relu(z - 1) = clip(z, 0, 1)

    This is *not* ``keras.activations.hard_sigmoid``, whose ramp runs from -3 to 3 with slope 1/6
    (``relu6(z + 3) / 6``); the two are related by
    ``keras_hard_sigmoid(z) = hard_sigmoid(z / 6 + 0.5)``. The lecture's form keeps the ramp's
    position and steepness entirely in ``b_i`` and ``w_ij``.
    """
    return ops.relu(z) - ops.relu(z - 1.0)


_UNIT_FUNCTIONS = {"sigmoid": ops.sigmoid, "hard_sigmoid": hard_sigmoid, "relu": ops.relu}


@keras.saving.register_keras_serializable(package="mlcourse")
class SigmoidSum(keras.layers.Layer):
    """``y = b + Σ_i c_i·unit(b_i + Σ_j w_ij x_j)``: the lecture-2 model as one layer.

    ML2021 L02 ("預測本頻道觀看人數 (下)"): the piecewise-linear "blue curves" are sums of hard
    sigmoids; smooth sigmoids approximate them; two ReLUs make one hard sigmoid. With enough units
    the sum approximates any continuous function of the features (see
    ``mlcourse.analysis.approximation``).

    Args:
        units: number of hidden units ``i`` (positive int).
        unit: ``"sigmoid"``, ``"hard_sigmoid"`` (the lecture's flat-ramp-flat, see ``hard_sigmoid``)
            or ``"relu"``.
        kernel_initializer: initializer of ``w_ij`` (default ``"glorot_uniform"``).
        bias_initializer: initializer of ``b_i`` (default ``"zeros"``).
        output_initializer: initializer of ``c_i`` (default ``"glorot_uniform"``).

    Weights (in this order): ``kernel`` ``w`` ``(features, units)``, ``hidden_bias`` ``b_i``
    ``(units,)``, ``output_kernel`` ``c`` ``(units, 1)``, ``output_bias`` ``b`` ``(1,)``.

    Call arguments:
        inputs: ``(..., features)`` floats.

    Returns:
        ``(..., 1)``: the prediction ``y``.
    """

    def __init__(
        self,
        units,
        unit="sigmoid",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        output_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.unit = check_choice("unit", unit, UNITS)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.output_initializer = keras.initializers.get(output_initializer)

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(
                "SigmoidSum needs a known last input dimension (the number of features)"
            )
        self.kernel = self.add_weight(
            name="kernel", shape=(features, self.units), initializer=self.kernel_initializer
        )
        self.hidden_bias = self.add_weight(
            name="hidden_bias", shape=(self.units,), initializer=self.bias_initializer
        )
        self.output_kernel = self.add_weight(
            name="output_kernel", shape=(self.units, 1), initializer=self.output_initializer
        )
        self.output_bias = self.add_weight(name="output_bias", shape=(1,), initializer="zeros")
        self.input_spec = input_spec(input_shape, min_ndim=2)  # as keras.layers.Dense

    def hidden(self, inputs):
        """The units' outputs ``unit(b_i + Σ_j w_ij x_j)``, shape ``(..., units)``."""
        return _UNIT_FUNCTIONS[self.unit](ops.matmul(inputs, self.kernel) + self.hidden_bias)

    def call(self, inputs):
        return ops.matmul(self.hidden(inputs), self.output_kernel) + self.output_bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            unit=self.unit,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            output_initializer=keras.initializers.serialize(self.output_initializer),
        )
        return config
