"""Start TensorFlow without its start-up lines, so a student's terminal shows only what teaches.

TensorFlow 2.21 writes a few lines to the C-level stderr while it loads, before its logging is
configured, so no setting reaches them: absl's pre-init banner, "oneDNN custom operations are on",
"Could not find cuda drivers" and, on every machine without a GPU driver, "failed call to cuInit:
... CUDA error", which reads as a failure although nothing failed. ``start_tensorflow()`` sets the
log level through the environment, loads TensorFlow and lets it look for GPUs (the cuInit call)
with the C-level stderr sent to a temporary file, then writes back every line that is not one of
those known start-up lines, so a real error still shows. It also sets TensorFlow's and absl's
Python loggers to errors only (no ``tf.function`` retracing warnings).

Call it before anything imports TensorFlow; the ``mlcourse`` command does (``--verbose`` lets
TensorFlow's own warnings through).
"""

import contextlib
import logging
import os
import sys
import tempfile

__all__ = ["START_UP_LINES", "start_tensorflow", "without_start_up_lines"]

#: Substrings of the lines TensorFlow prints while loading on a machine without a GPU driver.
START_UP_LINES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "Could not find cuda drivers on your machine",
    "failed call to cuInit",
    "cpu_feature_guard",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions",
    # a Jupyter kernel started by `mlcourse notebook --execute` (ipykernel 7), on this machine only
    "Kernel is running over TCP without encryption",
)


def _known(line):
    return any(known in line for known in START_UP_LINES)


@contextlib.contextmanager
def without_start_up_lines():
    """Send the C-level stderr (this process's and its children's: a notebook kernel's) to a
    temporary file while the block runs, then write back every line that is not a known start-up
    line, so a real error still shows."""
    try:
        saved = os.dup(2)
    except OSError:  # no C-level stderr to redirect (an embedded interpreter)
        yield
        return
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured = sink.read().decode("utf-8", errors="replace")
            kept = [line for line in captured.splitlines() if line.strip() and not _known(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def start_tensorflow(verbose=False):
    """Import TensorFlow quietly (once) and return it; its Python loggers are set to errors
    only even when it was imported before (a tutorial run as a script or a notebook).

    Its C++ log level is set through the environment (unless ``TF_CPP_MIN_LOG_LEVEL`` is set
    already): fatal messages only, or warnings and errors with ``verbose``. TensorFlow's C++
    "errors" at run time are notices such as "oneDNN supports DT_INT64 only on platforms with
    AVX-512. Falling back to ..."; a real failure reaches Python as an exception either way.
    """
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1" if verbose else "3")
        with without_start_up_lines():
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the cuInit call, inside the redirect
    tf = sys.modules["tensorflow"]  # imported here or before (a script, a notebook): quiet it
    tf.get_logger().setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
    return tf
