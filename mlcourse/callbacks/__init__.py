"""TensorBoard callbacks shared by the tutorials; each is a plain keras.callbacks.Callback.

Every public module here lists its names in ``__all__``; they are all importable from this package.

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

from mlcourse._collect import export_all
from mlcourse.backends import require_tensorflow

require_tensorflow("mlcourse.callbacks")

__all__ = export_all(__name__, __path__, globals())
