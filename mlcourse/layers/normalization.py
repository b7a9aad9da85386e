r"""Normalization layers from scratch: batch norm and its relatives (ML2021 L08, batch
normalization).

Every layer here standardises some slice of the activations and then lets the network choose its own
scale and shift again:

$$\tilde z = \frac{z - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad \hat z = \gamma \odot \tilde z +
\beta.$$

They differ only in *which* values share one $\mu$ and $\sigma$ (for an input of shape
`(N, H, W, C)`):

| layer | statistics over | one $(\mu, \sigma)$ per |
| --- | --- | --- |
| `BatchNorm` | batch and spatial axes `N, H, W` | channel |
| `LayerNorm` | the feature axes `C` (or `H, W, C`) | example |
| `InstanceNorm` | spatial axes `H, W` | example and channel |
| `GroupNorm` | `H, W` and the channels of one group | example and group |

`BatchRenorm` corrects batch norm's training-time statistics towards the moving averages, and the
two wrappers normalise *weights* instead of activations: `WeightNorm` (direction and length learnt
apart) and `SpectralNorm` (the kernel divided by its largest singular value, found by power
iteration).

The statistics are computed in float32 even under `mixed_float16` (as Keras does): a float16
variance of activations overflows easily.
"""

import keras
from keras import ops

from mlcourse.layers.inputs import check_batch, input_spec
from mlcourse.validation import (
    check_axis,
    check_bool,
    check_float,
    check_positive,
    check_positive_int,
    check_unit_interval,
)

#: Power-iteration steps per call are a Python loop: more than this would hang the call.
MAX_POWER_ITERATIONS = 1000

__all__ = [
    "BatchNorm",
    "BatchRenorm",
    "GroupNorm",
    "InstanceNorm",
    "LayerNorm",
    "SpectralNorm",
    "WeightNorm",
]


# --- argument checks ------------------------------------------------------------------------------


def _resolve_axes(axis, ndim):
    """Turn `axis` (int or list, may be negative) into sorted axes of a rank-`ndim` input, never the
    batch axis.
    """
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    resolved = sorted({a % ndim for a in axes if -ndim < a < ndim and a % ndim != 0})
    if len(resolved) != len(axes):
        raise ValueError(
            f"axis must be in 1..{ndim - 1} or {1 - ndim}..-1 (not the batch axis 0) for inputs of "
            f"rank {ndim}, got {axis!r}"
        )
    return resolved


def _broadcast_shape(ndim, axes, sizes):
    """Shape that puts per-`axes` parameters in place for broadcasting: e.g. (1, 1, 1, C)."""
    shape = [1] * ndim
    for axis, size in zip(axes, sizes, strict=True):
        shape[axis] = size
    return shape


def _stats_dtype(inputs):
    return keras.backend.result_type(inputs.dtype, "float32")


def _moments(x, axes):
    r"""Mean and (biased) variance over `axes`, keeping dims.

    $\mu = \frac{1}{m}\sum_i x_i$, $\sigma^2 = \frac{1}{m}\sum_i (x_i - \mu)^2$. The gradient of
    $\sigma^2$ through $\mu$ is $-\frac{2}{m}\sum_i (x_i - \mu) = 0$, so `stop_gradient` on $\mu$
    there changes nothing but the size of the backward graph (tf.nn.moments does the same).
    """
    mean = ops.mean(x, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(x - ops.stop_gradient(mean)), axis=axes, keepdims=True)
    return mean, variance


def _scale_and_shift(x, mean, inv_std, gamma, beta):
    r"""$\gamma \frac{x - \mu}{\sigma} + \beta$ written as $x a + b$: one multiply, one add per
    element.

    $a = \gamma / \sigma$ and $b = \beta - \mu a$ are per-channel, so they are cheap.
    """
    a = inv_std if gamma is None else inv_std * gamma
    b = -mean * a if beta is None else beta - mean * a
    return x * a + b


# --- batch normalization --------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="mlcourse")
class BatchNorm(keras.layers.Layer):
    r"""Batch normalization, written out: normalise each channel with the batch's own mean and
    variance.

    ML2021 L08, batch normalization. For a batch $\{z^1, \dots, z^m\}$ of one channel's values:

    $$\mu = \frac{1}{m}\sum_i z^i, \quad \sigma^2 = \frac{1}{m}\sum_i (z^i - \mu)^2, \quad
      \tilde z^i = \frac{z^i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad
      \hat z^i = \gamma \tilde z^i + \beta.$$

    $\gamma$ and $\beta$ are learnt like any weight (initialised to 1 and 0). They let the network
    undo the normalisation where that helps: with $\gamma = \sqrt{\sigma^2 + \epsilon}$ and
    $\beta = \mu$ the output is the input again.

    Testing sees one example at a time, so no batch statistics exist then. During training the layer
    keeps moving averages, $\bar\mu \leftarrow m \bar\mu + (1 - m)\mu$ (and the same for
    $\sigma^2$, with `momentum` $m$), and inference uses $\bar\mu, \bar\sigma^2$ instead. As in
    `keras.layers.BatchNormalization`, a layer with `trainable=False` always runs in inference mode.

    The statistics run over every axis but `axis`: for `(N, D)` inputs that is the batch; for
    `(N, H, W, C)` images it is the batch and all pixels, one $\mu, \sigma$ per channel (the "per
    feature map" rule of Ioffe & Szegedy 2015, https://arxiv.org/abs/1502.03167).

    Args:
        axis: int, the channel axis (kept); `-1` for channels-last, `1` for channels-first.
        momentum: float in [0, 1), the moving averages' momentum.
        epsilon: positive float added to the variance.
        center: bool, learn $\beta$ (else $\beta = 0$).
        scale: bool, learn $\gamma$ (else $\gamma = 1$).
        beta_initializer: initializer for $\beta$.
        gamma_initializer: initializer for $\gamma$.
        synchronized: bool; under a `tf.distribute` strategy, compute $\mu, \sigma^2$ over the
            whole global batch (all replicas) instead of each replica's share. TensorFlow backend
            only, as in `keras.layers.BatchNormalization(synchronized=True)`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of rank >= 2.
        training: bool; True uses (and updates) batch statistics, False the moving averages.

    Returns:
        A tensor of the input's shape.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.synchronized = check_bool("synchronized", synchronized)
        if self.synchronized and keras.backend.backend() != "tensorflow":
            raise ValueError(
                "synchronized=True needs the TensorFlow backend (it all-reduces the statistics "
                f"across tf.distribute replicas); the backend is {keras.backend.backend()}"
            )
        self.axis = check_axis("axis", axis)
        self.momentum = check_unit_interval("momentum", momentum)
        self.epsilon = check_positive("epsilon", epsilon)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)

    def build(self, input_shape):
        ndim = len(input_shape)
        (self._channel_axis,) = _resolve_axes(self.axis, ndim)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f"axis {self.axis} of the inputs must have a known size, got shape {input_shape}"
            )
        self._reduction_axes = [a for a in range(ndim) if a != self._channel_axis]
        self._param_shape = _broadcast_shape(ndim, [self._channel_axis], [channels])
        self.gamma = (
            self._add_channel_weight("gamma", channels, self.gamma_initializer)
            if self.scale
            else None
        )
        self.beta = (
            self._add_channel_weight("beta", channels, self.beta_initializer)
            if self.center
            else None
        )
        self._build_moving_statistics(channels)
        self.input_spec = keras.layers.InputSpec(ndim=ndim, axes={self._channel_axis: channels})

    def _add_channel_weight(self, name, channels, initializer, trainable=True):
        return self.add_weight(
            name=name,
            shape=(channels,),
            initializer=initializer,
            trainable=trainable,
            autocast=False,
        )

    def _build_moving_statistics(self, channels):
        self.moving_mean = self._add_channel_weight(
            "moving_mean", channels, "zeros", trainable=False
        )
        self.moving_variance = self._add_channel_weight(
            "moving_variance", channels, "ones", trainable=False
        )

    def _per_channel(self, value, dtype):
        """A `(C,)` variable reshaped to broadcast against the inputs, e.g. `(1, 1, 1, C)`."""
        return None if value is None else ops.reshape(ops.cast(value, dtype), self._param_shape)

    def call(self, inputs, training=None):
        x = ops.cast(inputs, _stats_dtype(inputs))
        gamma, beta = self._per_channel(self.gamma, x.dtype), self._per_channel(self.beta, x.dtype)
        if training and self.trainable:
            mean, variance = self._batch_moments(x)
            outputs = self._normalize_training(x, mean, variance, gamma, beta)
        else:
            outputs = self._normalize_inference(x, gamma, beta)
        return ops.cast(outputs, self.compute_dtype)

    def _batch_moments(self, x):
        """μ and σ² of this batch; with ``synchronized``, of the global batch over all replicas
        (sums and counts all-reduced, as Keras does)."""
        if self.synchronized:
            return ops.moments(x, self._reduction_axes, keepdims=True, synchronized=True)
        return _moments(x, self._reduction_axes)

    def _normalize_training(self, x, mean, variance, gamma, beta):
        self._update_moving_average(self.moving_mean, mean)
        self._update_moving_average(self.moving_variance, variance)
        return _scale_and_shift(x, mean, ops.rsqrt(variance + self.epsilon), gamma, beta)

    def _normalize_inference(self, x, gamma, beta):
        mean = self._per_channel(self.moving_mean, x.dtype)
        variance = self._per_channel(self.moving_variance, x.dtype)
        return _scale_and_shift(x, mean, ops.rsqrt(variance + self.epsilon), gamma, beta)

    def _update_moving_average(self, variable, batch_value):
        r"""$\bar v \leftarrow m \bar v + (1 - m) v_{batch}$."""
        batch_value = ops.cast(ops.reshape(batch_value, variable.shape), variable.dtype)
        variable.assign(variable * self.momentum + batch_value * (1.0 - self.momentum))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
            "synchronized": self.synchronized,
        }


@keras.saving.register_keras_serializable(package="mlcourse")
class BatchRenorm(BatchNorm):
    r"""Batch renormalization: batch norm whose training output is pulled towards the moving
    statistics.

    ML2021 L08, batch normalization ("to learn more": Ioffe 2017, https://arxiv.org/abs/1702.03275).
    Small or non-i.i.d. batches give noisy $\mu_B, \sigma_B$, and a network trained on them sees
    something other than what inference (moving $\mu, \sigma$) gives it. Batch renorm keeps the
    batch statistics for the gradient but corrects the value:

    $$\sigma_B = \sqrt{\sigma_B^2 + \epsilon}, \quad
      r = \operatorname{clip}_{[1/r_{max},\, r_{max}]}\Big(\frac{\sigma_B}{\sigma}\Big), \quad
      d = \operatorname{clip}_{[-d_{max},\, d_{max}]}\Big(\frac{\mu_B - \mu}{\sigma}\Big),$$
    $$\hat z = \gamma \Big(\frac{z - \mu_B}{\sigma_B} r + d\Big) + \beta,$$

    with $r, d$ treated as constants in backpropagation. Without clipping the training output equals
    the inference output $\gamma (z - \mu)/\sigma + \beta$; with $r_{max} = 1, d_{max} = 0$ it is
    plain batch norm. The moving mean and the moving *standard deviation* $\sigma$ (as in the paper;
    batch norm averages the variance) follow $\sigma \leftarrow m \sigma + (1 - m) \sigma_B$;
    `moving_stddev` starts at 1. The paper ramps $r_{max}$ from 1 and $d_{max}$ from 0 up over
    training; here they are fixed.

    Equal to `keras.layers.BatchNormalization(renorm=True, renorm_momentum=momentum,
    renorm_clipping={"rmin": 1 / rmax, "rmax": rmax, "dmax": dmax})`.

    Args:
        axis: int, the channel axis.
        momentum: float in [0, 1), the moving averages' momentum.
        epsilon: positive float added to the variance.
        rmax: float >= 1, the clip on the scale correction $r$ (to $[1/r_{max}, r_{max}]$).
        dmax: float >= 0, the clip on the shift correction $d$ (to $[-d_{max}, d_{max}]$).
        center, scale, beta_initializer, gamma_initializer, **kwargs: as in `BatchNorm`.

    Call arguments:
        inputs: a float tensor of rank >= 2.
        training: bool; True uses batch statistics corrected by $r, d$, False the moving averages.

    Returns:
        A tensor of the input's shape.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, rmax=3.0, dmax=5.0, **kwargs):
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon, **kwargs)
        self.rmax = check_float("rmax", rmax, low=1)  # r is clipped to [1/rmax, rmax]
        self.dmax = check_float("dmax", dmax, low=0)  # d is clipped to [-dmax, dmax]

    def _build_moving_statistics(self, channels):
        self.moving_mean = self._add_channel_weight(
            "moving_mean", channels, "zeros", trainable=False
        )
        self.moving_stddev = self._add_channel_weight(
            "moving_stddev", channels, "ones", trainable=False
        )

    def _normalize_training(self, x, mean, variance, gamma, beta):
        batch_stddev = ops.sqrt(variance + self.epsilon)
        moving_mean = self._per_channel(self.moving_mean, x.dtype)
        moving_stddev = self._per_channel(self.moving_stddev, x.dtype)
        r = ops.stop_gradient(ops.clip(batch_stddev / moving_stddev, 1.0 / self.rmax, self.rmax))
        d = ops.stop_gradient(ops.clip((mean - moving_mean) / moving_stddev, -self.dmax, self.dmax))
        self._update_moving_average(self.moving_mean, mean)
        self._update_moving_average(self.moving_stddev, batch_stddev)
        # gamma * ((x - mu_B) / sigma_B * r + d) + beta  ==  (x - mu_B) * (gamma r / sigma_B) +
        # (beta + gamma d)
        gamma_r = r if gamma is None else gamma * r
        beta_d = d if gamma is None else gamma * d
        beta_d = beta_d if beta is None else beta_d + beta
        return _scale_and_shift(x, mean, 1.0 / batch_stddev, gamma_r, beta_d)

    def _normalize_inference(self, x, gamma, beta):
        mean = self._per_channel(self.moving_mean, x.dtype)
        stddev = self._per_channel(self.moving_stddev, x.dtype)
        return _scale_and_shift(x, mean, 1.0 / stddev, gamma, beta)

    def get_config(self):
        return {**super().get_config(), "rmax": self.rmax, "dmax": self.dmax}


# --- per-example normalizations -------------------------------------------------------------------


class _PerExampleNorm(keras.layers.Layer):
    r"""Shared parts of LayerNorm, GroupNorm and InstanceNorm: no moving statistics, the same in
    training and at inference, $\gamma, \beta$ on the kept axes."""

    #: Whether ``axis`` may list several axes (LayerNorm) or names the one channel axis.
    SEVERAL_AXES = True

    def __init__(self, axis, epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis("axis", axis, several=self.SEVERAL_AXES)
        self.epsilon = check_positive("epsilon", epsilon)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)

    def _build_affine(self, input_shape, param_axes):
        sizes = [input_shape[a] for a in param_axes]
        if any(size is None for size in sizes):
            raise ValueError(
                f"axis {self.axis} of the inputs must have a known size, got shape {input_shape}"
            )
        self._param_shape = _broadcast_shape(len(input_shape), param_axes, sizes)
        self.gamma = (
            self._add_affine_weight("gamma", sizes, self.gamma_initializer) if self.scale else None
        )
        self.beta = (
            self._add_affine_weight("beta", sizes, self.beta_initializer) if self.center else None
        )

    def _add_affine_weight(self, name, sizes, initializer):
        return self.add_weight(
            name=name, shape=tuple(sizes), initializer=initializer, autocast=False
        )

    def _affine(self, x):
        r"""$\gamma \odot x + \beta$ with the parameters broadcast against `x`."""
        if self.gamma is not None:
            x = x * ops.reshape(ops.cast(self.gamma, x.dtype), self._param_shape)
        if self.beta is not None:
            x = x + ops.reshape(ops.cast(self.beta, x.dtype), self._param_shape)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
        }


@keras.saving.register_keras_serializable(package="mlcourse")
class LayerNorm(_PerExampleNorm):
    r"""Layer normalization: each example normalised over its own features, no batch needed.

    ML2021 L08, batch normalization ("to learn more": Ba et al. 2016,
    https://arxiv.org/abs/1607.06450); the norm used in the Transformer (L12). For each example,
    over the features on `axis`:

    $$\mu = \frac{1}{H}\sum_{j} z_j, \quad \sigma^2 = \frac{1}{H}\sum_j (z_j - \mu)^2, \quad
      \hat z_j = \gamma_j \frac{z_j - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_j.$$

    Training and inference compute the same thing. Equal to `keras.layers.LayerNormalization`.

    Args:
        axis: int or list of ints, the axes normalised over (and that carry $\gamma, \beta$).
        epsilon: positive float added to the variance.
        center, scale: bool, learn $\beta$ / $\gamma$.
        beta_initializer, gamma_initializer: initializers.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: a float tensor.

    Returns:
        A tensor of the input's shape.
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(
            axis, epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs
        )
        self.supports_masking = True  # as keras.layers.LayerNormalization

    def build(self, input_shape):
        self._axes = _resolve_axes(self.axis, len(input_shape))
        self._build_affine(input_shape, self._axes)
        self.input_spec = input_spec(input_shape, axes=self._axes)

    def call(self, inputs):
        x = ops.cast(inputs, _stats_dtype(inputs))
        mean, variance = _moments(x, self._axes)
        return ops.cast(
            self._affine((x - mean) * ops.rsqrt(variance + self.epsilon)), self.compute_dtype
        )


@keras.saving.register_keras_serializable(package="mlcourse")
class GroupNorm(_PerExampleNorm):
    r"""Group normalization: channels split into groups; each example normalised within each group.

    ML2021 L08, batch normalization ("to learn more": Wu & He 2018,
    https://arxiv.org/abs/1803.08494). For `(N, H, W, C)` inputs and $G$ groups of $C/G$ channels,
    with $S_{n,g}$ all positions and channels of group $g$ in example $n$:

    $$\mu_{n,g} = \frac{1}{|S_{n,g}|}\sum_{i \in S_{n,g}} z_i, \quad
      \hat z_i = \gamma_c \frac{z_i - \mu_{n,g}}{\sqrt{\sigma^2_{n,g} + \epsilon}} + \beta_c.$$

    $G = 1$ is layer norm over `(H, W, C)`; $G = C$ is instance norm. Independent of the batch size,
    so it works with batches of 1 or 2. Equal to `keras.layers.GroupNormalization`.

    Args:
        groups: positive int that divides the number of channels.
        axis: int, the channel axis.
        epsilon: positive float added to the variance.
        center, scale: bool, learn per-channel $\beta$ / $\gamma$.
        beta_initializer, gamma_initializer: initializers.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: a float tensor of rank >= 2 `(N, ..., C)`.

    Returns:
        A tensor of the input's shape.
    """

    SEVERAL_AXES = False  # axis: the channel axis

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(
            axis, epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs
        )
        self.groups = check_positive_int("groups", groups)

    def _groups_for(self, channels):
        return self.groups

    def build(self, input_shape):
        (self._channel_axis,) = _resolve_axes(self.axis, len(input_shape))
        channels = input_shape[self._channel_axis]
        self._build_affine(input_shape, [self._channel_axis])
        self.input_spec = input_spec(input_shape, axes=[self._channel_axis])
        self._num_groups = self._groups_for(channels)
        if channels % self._num_groups:
            raise ValueError(
                f"groups must divide the number of channels ({channels}), got {self._num_groups}"
            )

    def call(self, inputs):
        x = ops.cast(inputs, _stats_dtype(inputs))
        shape = ops.shape(x)
        c = self._channel_axis
        channels = shape[c]
        # (N, ..., C) -> (N, ..., G, C/G): one group per index of the new axis c.
        grouped = ops.reshape(
            x, [*shape[:c], self._num_groups, channels // self._num_groups, *shape[c + 1 :]]
        )
        axes = [a for a in range(1, len(grouped.shape)) if a != c]
        mean, variance = _moments(grouped, axes)
        normalized = ops.reshape((grouped - mean) * ops.rsqrt(variance + self.epsilon), shape)
        return ops.cast(self._affine(normalized), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


@keras.saving.register_keras_serializable(package="mlcourse")
class InstanceNorm(_PerExampleNorm):
    r"""Instance normalization: each example's each channel normalised over its own positions.

    ML2021 L08, batch normalization ("to learn more": Ulyanov et al. 2016,
    https://arxiv.org/abs/1607.08022); used in style transfer, where each image's contrast should
    not leak into the others. For `(N, H, W, C)` inputs:

    $$\mu_{n,c} = \frac{1}{HW}\sum_{h,w} z_{n,h,w,c}, \quad
      \hat z_{n,h,w,c} = \gamma_c \frac{z_{n,h,w,c} - \mu_{n,c}}{\sqrt{\sigma^2_{n,c} + \epsilon}} +
      \beta_c.$$

    It is group norm with one channel per group: equal to
    `keras.layers.GroupNormalization(groups=C)`.

    Args:
        axis: int, the channel axis.
        epsilon: positive float added to the variance.
        center, scale: bool, learn per-channel $\beta$ / $\gamma$.
        beta_initializer, gamma_initializer: initializers.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: a float tensor of rank >= 3 `(N, positions..., C)`.

    Returns:
        A tensor of the input's shape.
    """

    SEVERAL_AXES = False  # axis: the channel axis

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(
            axis, epsilon, center, scale, beta_initializer, gamma_initializer, **kwargs
        )

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"inputs must have positions to normalise over (rank >= 3), got shape {input_shape}"
            )
        (self._channel_axis,) = _resolve_axes(self.axis, len(input_shape))
        self._axes = [a for a in range(1, len(input_shape)) if a != self._channel_axis]
        self._build_affine(input_shape, [self._channel_axis])
        self.input_spec = input_spec(input_shape, axes=[self._channel_axis])

    def call(self, inputs):
        x = ops.cast(inputs, _stats_dtype(inputs))
        mean, variance = _moments(x, self._axes)
        return ops.cast(
            self._affine((x - mean) * ops.rsqrt(variance + self.epsilon)), self.compute_dtype
        )


# --- weight normalizations (wrappers) -------------------------------------------------------------


class _KernelWrapper(keras.layers.Wrapper):
    """Calls the wrapped layer with its `kernel` replaced by a tensor computed from it.

    The substitution uses `keras.StatelessScope`, so gradients flow through the computed kernel back
    to the wrapped layer's own `kernel` variable (and to any new weights of the wrapper). Scopes do
    not chain: inside the new scope a variable it does not map is read from its own storage, not
    from an enclosing scope (JAX's trainer and `stateless_call` keep every value in one). So the
    scope maps every variable of the wrapped layer: the kernel to the computed tensor, the others
    (the bias, ...) to their current values, and any update the wrapped layer makes is passed on.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, keras.layers.Layer):
            raise ValueError(
                f"layer must be a keras Layer with a `kernel` (Dense, Conv2D, ...), got {layer!r}"
            )
        super().__init__(layer, **kwargs)

    def build(self, input_shape):
        super().build(input_shape)
        if getattr(self.layer, "kernel", None) is None:
            raise ValueError(
                "layer must have a `kernel` weight (Dense, Conv2D, ...), got "
                f"{type(self.layer).__name__}"
            )

    def _call_with_kernel(self, inputs, kernel):
        kernel = ops.cast(kernel, self.layer.kernel.dtype)
        others = [v for v in self.layer.variables if v is not self.layer.kernel]
        current = [ops.cast(v.value, v.dtype) for v in others]  # from the enclosing scope, if any
        mapping = [(self.layer.kernel, kernel), *zip(others, current, strict=True)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            mapped = [scope.get_current_value(v) for v in others]
            outputs = self.layer(inputs)
        for variable, before in zip(others, mapped, strict=True):
            after = scope.get_current_value(variable)
            if after is not before:  # e.g. a moving statistic the wrapped layer updated
                variable.assign(after)
        # The wrapped layer keeps its own policy; the wrapper's output follows the wrapper's
        # (as keras.layers.SpectralNormalization does).
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # keras.layers.Wrapper.from_config pops "layer" from the dict it is given: leave the
        # caller's intact.
        return super().from_config(dict(config), custom_objects=custom_objects)


@keras.saving.register_keras_serializable(package="mlcourse")
class WeightNorm(_KernelWrapper):
    r"""Weight normalization: each output unit's weight vector learnt as a direction and a length.

    ML2021 L08, batch normalization ("to learn more": Salimans & Kingma 2016,
    https://arxiv.org/abs/1602.07868). For output unit $k$ with incoming weights $\mathbf v_k$ (a
    column of a Dense kernel, or one Conv2D filter):

    $$\mathbf w_k = g_k \frac{\mathbf v_k}{\lVert \mathbf v_k \rVert}.$$

    The wrapped layer's `kernel` holds $\mathbf v$; the wrapper adds $g$. The length no longer
    depends on the direction, which conditions gradient descent like batch norm does, with no batch
    statistics. $g$ starts at $\lVert \mathbf v \rVert$, so at initialisation the wrapped layer
    computes exactly what it did before wrapping.

    Args:
        layer: a built or unbuilt layer with a `kernel` whose last axis is the output units
            (`Dense`, `Conv1D/2D/3D`, ...).
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: the wrapped layer's inputs.

    Returns:
        The wrapped layer's output, computed with kernel $\mathbf w$.
    """

    def build(self, input_shape):
        super().build(input_shape)
        initial_norms = ops.convert_to_numpy(self._column_norms(self.layer.kernel))
        self.g = self.add_weight(
            name="g",
            shape=initial_norms.shape,
            initializer=lambda shape, dtype=None: ops.cast(initial_norms, dtype),
            autocast=False,
        )

    @staticmethod
    def _column_norms(kernel):
        r"""$\lVert \mathbf v_k \rVert$ over every axis but the last (the output units)."""
        return ops.sqrt(
            ops.sum(
                ops.square(ops.cast(kernel, "float32")), axis=tuple(range(len(kernel.shape) - 1))
            )
        )

    def call(self, inputs):
        check_batch(self, inputs)
        # Under mixed precision `.value` is the float16 copy the wrapped layer would use; the maths
        # runs in float32.
        v = ops.cast(self.layer.kernel.value, "float32")
        kernel = v * (ops.cast(self.g, "float32") / ops.maximum(self._column_norms(v), 1e-12))
        return self._call_with_kernel(inputs, kernel)


@keras.saving.register_keras_serializable(package="mlcourse")
class SpectralNorm(_KernelWrapper):
    r"""Spectral normalization: the kernel divided by its largest singular value (power iteration).

    ML2021 L08, batch normalization ("to learn more": Yoshida & Miyato 2017,
    https://arxiv.org/abs/1705.10941; Miyato et al. 2018, https://arxiv.org/abs/1802.05957). With
    the kernel reshaped to a matrix $W$ (inputs x outputs), the layer uses $W / \sigma(W)$, where
    $\sigma(W) = \max_{\lVert x \rVert = 1} \lVert x W \rVert$ is the spectral norm, so each
    layer is 1-Lipschitz: it cannot stretch any input difference (used to stabilise GAN
    discriminators, L17-18). $\sigma$ is estimated by power iteration with a persistent vector
    $u$ (kept between steps, so one iteration per step is enough):

    $$v \leftarrow \frac{u W^\top}{\lVert u W^\top \rVert}, \quad
      u \leftarrow \frac{v W}{\lVert v W \rVert}, \quad \sigma \approx v W u^\top.$$

    $u$ is updated only in training. Unlike `keras.layers.SpectralNormalization`, which overwrites
    the kernel with $W / \sigma$ at each training call, this keeps $W$ as the weight and
    differentiates through $W / \sigma(W)$ (the paper's reparametrisation); the training outputs and
    $u$ are the same.

    Args:
        layer: a layer with a `kernel` whose last axis is the output units (`Dense`, `Conv2D`, ...).
        power_iterations: positive int, power-iteration steps per call.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: the wrapped layer's inputs.
        training: bool; True also stores the updated $u$.

    Returns:
        The wrapped layer's output, computed with kernel $W / \sigma(W)$.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        self.power_iterations = check_positive_int(
            "power_iterations", power_iterations, high=MAX_POWER_ITERATIONS
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.vector_u = self.add_weight(
            name="vector_u",
            shape=(1, self.layer.kernel.shape[-1]),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            autocast=False,
        )

    def spectral_norm(self, kernel, u):
        """Power iteration from `u`; returns (sigma, new u)."""
        w = ops.reshape(kernel, (-1, kernel.shape[-1]))
        for _ in range(self.power_iterations):
            v = ops.normalize(ops.matmul(u, ops.transpose(w)), axis=None)
            u = ops.normalize(ops.matmul(v, w), axis=None)
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.matmul(ops.matmul(v, w), ops.transpose(u))[0, 0]
        return sigma, u

    def call(self, inputs, training=False):
        kernel = ops.cast(self.layer.kernel.value, "float32")
        sigma, u = self.spectral_norm(kernel, ops.cast(self.vector_u, "float32"))
        if training:
            self.vector_u.assign(u)
        # An all-zero kernel has sigma 0: keep it zero instead of 0 / 0.
        return self._call_with_kernel(inputs, kernel / ops.maximum(sigma, 1e-12))

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
