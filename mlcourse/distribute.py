"""Choosing where training runs: one ``tf.distribute`` strategy for every tutorial.

``strategy("auto")`` picks, in order: a TPU if one resolves, ``MirroredStrategy`` over several GPUs,
the one GPU, else the CPU, and says which. ``multiworker`` reads the cluster from ``TF_CONFIG``
(see README, "More than one machine").

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import glob
import json
import os

import tensorflow as tf

from mlcourse.backends import require_tensorflow
from mlcourse.options import STRATEGIES

require_tensorflow("mlcourse.distribute")

__all__ = [
    "STRATEGIES",
    "configure_cpu_devices",
    "describe",
    "is_chief",
    "mixed_precision_policy",
    "strategy",
    "task",
]


def _tpu_visible():
    """Only look for a TPU where one can be: a TPU VM's /dev/accel*, or TPU_NAME / COLAB_TPU_ADDR
    set.

    (Asking TensorFlow's resolver blindly would query a cloud metadata server.)
    """
    return bool(
        os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR") or glob.glob("/dev/accel*")
    )


def _tpu_resolver():
    if not _tpu_visible():
        return None

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        resolver.cluster_spec()  # raises when nothing resolves
        return resolver
    except (ValueError, RuntimeError, KeyError, tf.errors.OpError, ImportError):
        return None


def _tpu_strategy(resolver):
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def tf_config():
    """The ``TF_CONFIG`` environment variable as a dict (empty without one)."""
    return json.loads(os.environ.get("TF_CONFIG") or "{}")


def task():
    """This process's ``(type, index)`` in ``TF_CONFIG`` (``("worker", 0)`` without one)."""
    config = tf_config().get("task", {})
    return str(config.get("type", "worker")), int(config.get("index", 0))


def is_chief():
    """Whether this process is the chief: the ``chief`` task,
    or worker 0 in a cluster without one.
    """
    kind, index = task()
    cluster = tf_config().get("cluster", {})
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)


def _multi_worker_strategy():
    """``MultiWorkerMirroredStrategy`` that Keras 3's ``fit`` can use.

    Keras 3.15's TensorFlow trainer calls ``strategy.reduce`` on a whole ``(x, y)`` batch when it
    builds the model, and with ``axis=0`` on the scalar loss and metrics after every step; the
    collective strategy accepts neither (keras-team/keras#20585, tensorflow/tensorflow#72388). This
    subclass reduces each tensor of a structure on its own, and a scalar over replicas only. Any
    other use is the parent's.
    """

    class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis):
            parent = super()

            def reduce_one(item):
                local = (
                    item.values[0] if isinstance(item, tf.distribute.DistributedValues) else item
                )
                scalar = len(getattr(local, "shape", ())) == 0
                return parent.reduce(reduce_op, item, None if scalar else axis)

            return tf.nest.map_structure(reduce_one, value)

    return MultiWorkerMirroredStrategy()


def configure_cpu_devices(count):
    """Split the CPU into ``count`` logical devices, so ``MirroredStrategy`` can be tried without
    GPUs.

    Must run before TensorFlow starts its runtime (before the first op); ``strategy()`` calls it
    when ``MLCOURSE_CPU_DEVICES`` is set. Returns the number of logical CPU devices.
    """
    if int(count) < 1:
        raise ValueError(f"count must be a positive integer, got {count}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    configured = tf.config.get_logical_device_configuration(cpu)  # does not start the runtime
    if len(configured or [None]) != int(count):
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * int(count)
        )
    return len(tf.config.list_logical_devices("CPU"))


def strategy(kind="auto", verbose=True):
    """Return a ``tf.distribute.Strategy``.

    Args:
        kind: one of ``STRATEGIES``. ``auto`` tries TPU, then several GPUs (mirrored), one GPU, CPU.
        verbose: print one line saying what was chosen.
    """
    if kind not in STRATEGIES:
        raise ValueError(f"kind must be one of {STRATEGIES}, got {kind!r}")

    if os.environ.get("MLCOURSE_CPU_DEVICES"):
        configure_cpu_devices(int(os.environ["MLCOURSE_CPU_DEVICES"]))
    gpus = tf.config.list_physical_devices("GPU")  # physical: does not start the runtime yet
    if kind == "auto":
        resolver = _tpu_resolver()
        kind = "tpu" if resolver else "mirrored" if len(gpus) > 1 else "gpu" if gpus else "cpu"
    if kind == "tpu":
        resolver = _tpu_resolver()
        if resolver is None:
            raise RuntimeError("--strategy tpu: no TPU resolved (set TPU_NAME or run on a TPU VM)")
        chosen = _tpu_strategy(resolver)
    elif kind == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise RuntimeError(
                "--strategy multiworker needs TF_CONFIG (see README, 'More than one machine')"
            )
        chosen = _multi_worker_strategy()
    elif kind == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU" if gpus else "CPU")]
        chosen = tf.distribute.MirroredStrategy(devices)
    elif kind == "gpu":
        if not gpus:
            raise RuntimeError(
                "--strategy gpu: TensorFlow sees no GPU (install with `pip install -e .[gpu]`)"
            )
        chosen = tf.distribute.get_strategy()  # the default strategy places everything on GPU:0
    else:
        if gpus:
            tf.config.set_visible_devices([], "GPU")  # must happen before the runtime starts
        # One device: TensorFlow's default strategy, not OneDeviceStrategy, whose per-epoch dataset
        # iterators crash TensorFlow 2.21 when Keras resets them (segfault in a tf_Compute thread).
        chosen = tf.distribute.get_strategy()
    if verbose:
        print(f"[mlcourse] device: {describe(chosen)}")
    return chosen


def describe(chosen):
    """One line: the strategy's class and the devices it uses."""
    name = type(chosen).__name__
    if name == "_DefaultDistributionStrategy":
        device = "GPU:0" if tf.config.list_logical_devices("GPU") else "CPU:0"
        return f"default strategy on {device} (1 replica)"
    devices = getattr(chosen.extended, "worker_devices", ()) or ()
    if name == "MultiWorkerMirroredStrategy":
        index = task()[1]
        return f"{name} (worker {index}, {chosen.num_replicas_in_sync} replicas)"
    where = ", ".join(devices) or "default device"
    return f"{name} on {where} ({chosen.num_replicas_in_sync} replica(s))"


def mixed_precision_policy(chosen):
    """The mixed-precision policy that suits a strategy: bfloat16 on a TPU, float16 on a GPU, and
    ``None`` on a CPU (float16 arithmetic there is emulated: slower, and no more precise)."""
    if type(chosen).__name__ == "TPUStrategy":
        return "mixed_bfloat16"

    return "mixed_float16" if tf.config.list_logical_devices("GPU") else None
