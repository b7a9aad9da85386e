"""Argument checks shared by every public layer, optimizer, schedule, loss, callback and CLI flag.

Each check returns the (normalised) value or raises ``ValueError`` whose message names the argument,
the value it got and what is allowed, for example::

    >>> check_float("momentum", float("nan"), low=0, high=1, high_open=True)
    ValueError: momentum must be a finite number in [0, 1), got nan

Rules that hold everywhere: a bool is not a number and a string is not a bool (``"False"`` is
refused, not read as true); NaN and infinities are refused by name; integers must be integers
(``1.5`` is not an epoch count, and neither is ``2.0``); sizes that could hang a loop or exhaust
memory have an upper bound.
"""

import math
import numbers

__all__ = [
    "MAX_ITERATIONS",
    "MAX_SIZE",
    "check_axis",
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "check_int_tuple",
    "check_non_negative",
    "check_non_negative_int",
    "check_positive",
    "check_positive_int",
    "check_unit_interval",
]

#: Upper bound of a size (units, heads, sequence length, batch): larger values exhaust memory.
MAX_SIZE = 1 << 24
#: Tensors have at most this many axes (NumPy's limit); an axis index lies in [-MAX_RANK, MAX_RANK).
MAX_RANK = 64
#: Upper bound of an iteration count run in a Python loop (power iterations, steps): larger hangs.
MAX_ITERATIONS = 1_000_000


def _text(number):
    """An int as it is written (16777216), a float shortest (0.5, 1e-07)."""
    return str(number) if isinstance(number, numbers.Integral) else f"{number:g}"


def _interval(low, high, low_open, high_open):
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    low_text = "-inf" if low is None else _text(low)
    high_text = "inf" if high is None else _text(high)
    return f"{left}{low_text}, {high_text}{right}"


def _bound_text(low, high, low_open=False, high_open=False):
    if low is not None and high is None:
        return f"> {_text(low)}" if low_open else f">= {_text(low)}"
    if high is not None and low is None:
        return f"< {_text(high)}" if high_open else f"<= {_text(high)}"
    if low is None and high is None:
        return ""
    return f"in {_interval(low, high, low_open, high_open)}"


def _inside(value, low, high, low_open, high_open):
    if low is not None and (value <= low if low_open else value < low):
        return False
    if high is not None and (value >= high if high_open else value > high):
        return False
    return True


def check_bool(name, value):
    """``True`` or ``False`` (a NumPy bool too); anything else, ``"False"`` included, is refused."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy.bool_ without importing numpy
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


def check_int(name, value, low=None, high=None):
    """An integer (not a bool, not a float) in ``[low, high]``; either bound may be ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        allowed = _bound_text(low, high)
        raise ValueError(
            f"{name} must be an integer{' ' + allowed if allowed else ''}, got {value!r}"
        )
    value = int(value)
    if not _inside(value, low, high, False, False):
        raise ValueError(f"{name} must be an integer {_bound_text(low, high)}, got {value!r}")
    return value


def check_float(name, value, low=None, high=None, low_open=False, high_open=False):
    """A finite real number (ints are accepted and converted) between the bounds."""
    allowed = _bound_text(low, high, low_open, high_open)
    what = f"a finite number{' ' + allowed if allowed else ''}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not _inside(value, low, high, low_open, high_open):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def check_choice(name, value, allowed):
    """One of ``allowed``; the message lists them."""
    try:
        ok = value in allowed
    except TypeError:  # unhashable, e.g. a list given for a string
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def check_int_tuple(name, value, length, low=1, high=MAX_SIZE, allow_empty=False):
    """An int, or a tuple/list of ``length`` ints, each in ``[low, high]`` (like Keras's
    kernel_size); ``length=None`` allows any length (empty only with ``allow_empty``).

    Returns a tuple of ints.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = (value,) * (length or 1)
    else:
        items = value
    if (
        isinstance(value, bool)
        or not isinstance(items, (tuple, list))
        or (length is not None and len(items) != length)
        or (not items and not allow_empty)
        or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in items)
        or any(not low <= v <= high for v in items)
    ):
        count = "" if length is None else f"{length} "
        raise ValueError(
            f"{name} must be an integer or a tuple of {count}integers in [{low}, {high}], "
            f"got {value!r}"
        )
    return tuple(int(v) for v in items)


def check_axis(name, value, several=False):
    """An axis index ``-MAX_RANK <= axis < MAX_RANK`` (like NumPy's); with ``several``, also a
    non-empty list or tuple of distinct ones (returned as a list)."""
    axes = value if several and isinstance(value, (list, tuple)) else [value]
    if (
        not axes
        or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes)
        or any(not -MAX_RANK <= a < MAX_RANK for a in axes)
        or len(set(axes)) < len(axes)
    ):
        what = "an integer" + (" or a list of distinct integers" if several else "")
        raise ValueError(f"{name} must be {what} in [{-MAX_RANK}, {MAX_RANK - 1}], got {value!r}")
    return [int(a) for a in axes] if isinstance(value, (list, tuple)) else int(value)


def check_positive(name, value):
    """A finite float > 0."""
    return check_float(name, value, low=0, low_open=True)


def check_non_negative(name, value):
    """A finite float >= 0."""
    return check_float(name, value, low=0)


def check_positive_int(name, value, high=MAX_SIZE):
    """An int in ``[1, high]`` (``high``: ``MAX_SIZE`` for sizes, ``MAX_ITERATIONS`` for loops)."""
    return check_int(name, value, low=1, high=high)


def check_non_negative_int(name, value, high=MAX_SIZE):
    """An int in ``[0, high]``."""
    return check_int(name, value, low=0, high=high)


def check_unit_interval(name, value):
    """A float in ``[0, 1)`` (a decay or momentum factor)."""
    return check_float(name, value, low=0, high=1, high_open=True)
