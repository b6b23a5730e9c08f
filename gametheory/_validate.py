"""The validation layer at the public boundary: every check raises InvalidInputError naming the argument, the
value and what was expected.

Numbers: :func:`finite_scalar`, :func:`nonnegative_scalar`, :func:`positive_scalar`, :func:`capacity_value`
(a positive number or ``inf``). Integers: :func:`integer` (an int, or a float that is exactly an integer;
never truncated; optional bounds), :func:`index` (0 <= i < size, no wrap-around), :func:`random_seed`. Arrays:
:func:`finite_array`, :func:`nonnegative_array` (ragged input, strings and booleans rejected with the
argument named), :func:`integer_array`, :func:`sums_to`, :func:`pair`, :func:`number_list`. Options:
:func:`choice`, :func:`flag`. Objects: :func:`instance`, :func:`sequence_of`, :func:`function`, :func:`path`.
Resources: :func:`size_limit` (sizes that would exhaust memory or time, before anything is allocated).
Strings and booleans are never taken for numbers: ``Affine("1", 1)`` and ``degree=True`` are errors, not 1.

This module imports nothing from the package but the errors (bottom layer).

References
----------
.. [1] NumPy reference, "Data type objects (dtype)": the ``dtype.kind`` codes (``b`` boolean, ``U``/``S``/``V``
   strings and void, ``O`` object) used to refuse non-numbers before converting to float64.
.. [2] PEP 3141, "A Type Hierarchy for Numbers" (``numbers.Integral``, ``numbers.Real``): what counts as an
   integer or a real number here.
.. [3] IEEE 754-2008 binary64: integers are exact up to 2**53, the limit :func:`integer_array` enforces.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from gametheory.errors import InvalidInputError

__all__ = [
    "MAX_ELEMENTS",
    "capacity_value",
    "choice",
    "finite_array",
    "finite_scalar",
    "flag",
    "function",
    "index",
    "instance",
    "integer",
    "integer_array",
    "nonnegative_array",
    "number_list",
    "pair",
    "path",
    "nonnegative_scalar",
    "positive_scalar",
    "random_seed",
    "sequence_of",
    "size_limit",
    "sums_to",
]

#: the largest number of float64 entries a public function allocates from a user-given size (8 GiB)
MAX_ELEMENTS = 2**30


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _where(idx) -> int | tuple:
    """An entry's position for a message: an int for 1-D arrays, a tuple otherwise."""
    idx = tuple(int(v) for v in idx)
    return idx[0] if len(idx) == 1 else idx


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def finite_array(values, name: str, *, ndim: int | None = None, min_size: int = 0,
                 allow_posinf: bool = False) -> np.ndarray:
    """Return ``values`` as a float array after checking it.

    Parameters
    ----------
    values : array_like
        Numbers (nested lists of equal lengths, numpy arrays, scalars).
    name : str
        The argument's name, used in the error message.
    ndim : int, optional
        Required number of dimensions.
    min_size : int
        Required number of entries.
    allow_posinf : bool
        Accept ``+inf`` entries (capacities: "no limit").

    Returns
    -------
    numpy.ndarray
        A float64 copy or view.

    Raises
    ------
    InvalidInputError
        Ragged nesting, strings, booleans, non-numbers, wrong dimension, too few entries, NaN or infinity
        (the first offending entry is named by its index).
    """
    if isinstance(values, (str, bytes)):
        raise InvalidInputError(f"{name} must be numeric, got the string {_describe(values)}")
    try:
        raw = np.asarray(values)
    except ValueError as exc:  # numpy >= 1.24 refuses ragged nesting here
        raise InvalidInputError(f"{name} is ragged (nested sequences of different lengths): {_describe(values)}") \
            from exc
    if raw.dtype.kind in "USV":
        raise InvalidInputError(f"{name} must be numeric, got strings: {_describe(values)}")
    if raw.dtype.kind == "b":
        raise InvalidInputError(f"{name} must be numeric, got booleans: {_describe(values)}")
    if raw.dtype.kind == "O":
        flat = raw.ravel()
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in flat):
            raise InvalidInputError(f"{name} is ragged (nested sequences of different lengths): {_describe(values)}")
        if any(isinstance(v, (str, bytes)) or _is_bool(v) for v in flat):
            raise InvalidInputError(f"{name} must be numeric, got {_describe(values)}")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{name} must be numeric, got {_describe(values)}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise InvalidInputError(f"{name} needs at least {min_size} entries, got {arr.size}")
    bad = ~np.isfinite(arr) & ~(allow_posinf & (arr == np.inf))
    if bad.any():
        idx = np.argwhere(bad)[0]
        where = tuple(int(i) for i in idx) if arr.ndim > 1 else int(idx[0]) if arr.ndim == 1 else ()
        raise InvalidInputError(f"{name} must be finite; entry {where} is {arr[tuple(idx)].item()!r}")
    return arr


def nonnegative_array(values, name: str, **kwargs) -> np.ndarray:
    """Return ``values`` as a float array after checking it, as :func:`finite_array` does, also rejecting
    negative entries.

    Parameters
    ----------
    values : array_like
        Numbers (nested lists of equal lengths, numpy arrays, scalars).
    name : str
        The argument's name, used in the error message.
    **kwargs
        ``ndim``, ``min_size`` and ``allow_posinf``, passed to :func:`finite_array`.

    Returns
    -------
    numpy.ndarray
        A float64 array of the input's shape, every entry >= 0.

    Raises
    ------
    InvalidInputError
        Everything :func:`finite_array` refuses, and a negative entry (the first one is named by its index).
    """
    arr = finite_array(values, name, **kwargs)
    if (arr < 0).any():
        idx = np.argwhere(arr < 0)[0]
        where = tuple(int(i) for i in idx) if arr.ndim > 1 else int(idx[0]) if arr.ndim == 1 else ()
        raise InvalidInputError(f"{name} must be >= 0; entry {where} is {arr[tuple(idx)].item()!r}")
    return arr


def finite_scalar(value, name: str) -> float:
    """Return ``value`` as a finite float.

    Parameters
    ----------
    value : float, int or numpy scalar
        A real number; a numpy array of exactly one entry is accepted too.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    InvalidInputError
        Strings, booleans, arrays of more than one entry, non-numbers, NaN and infinity.
    """
    if isinstance(value, (str, bytes)) or _is_bool(value):
        raise InvalidInputError(f"{name} must be a number, got {_describe(value)} ({type(value).__name__})")
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{name} must be a number, got {_describe(value)}") from exc
    if not math.isfinite(v):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    return v


def nonnegative_scalar(value, name: str) -> float:
    """Return ``value`` as a finite float >= 0 (see :func:`finite_scalar`).

    Parameters
    ----------
    value : float, int or numpy scalar
        A real number.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    float
        ``float(value)``, >= 0.

    Raises
    ------
    InvalidInputError
        What :func:`finite_scalar` refuses, and negative values.
    """
    v = finite_scalar(value, name)
    if v < 0:
        raise InvalidInputError(f"{name} must be >= 0, got {v!r}")
    return v


def positive_scalar(value, name: str) -> float:
    """Return ``value`` as a finite float > 0 (see :func:`finite_scalar`).

    Parameters
    ----------
    value : float, int or numpy scalar
        A real number.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    float
        ``float(value)``, > 0.

    Raises
    ------
    InvalidInputError
        What :func:`finite_scalar` refuses, and zero or negative values.
    """
    v = finite_scalar(value, name)
    if v <= 0:
        raise InvalidInputError(f"{name} must be > 0, got {v!r}")
    return v


def capacity_value(value, name: str = "capacity") -> float:
    """A capacity: a finite number > 0, or ``inf`` (no capacity).

    Parameters
    ----------
    value : float, int or numpy scalar
        The capacity, in the unit of the caller (requests/s, tokens/s, blocks).
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    float
        The capacity as a float; ``math.inf`` when ``value`` is ``+inf``.

    Raises
    ------
    InvalidInputError
        NaN, ``-inf``, zero, negative values, strings, booleans and non-numbers.
    """
    if not (isinstance(value, (str, bytes)) or _is_bool(value)):
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            v = 0.0
        if v == math.inf:
            return math.inf
        if math.isnan(v) or v == -math.inf:
            raise InvalidInputError(f"{name} must be a number > 0, or inf for no capacity; got {value!r}")
    return positive_scalar(value, name)


def integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int: an integer, or a float that is exactly one (3.0, never 2.5 truncated to 2).

    Parameters
    ----------
    value : int or float
        The value (a 0-dimensional numpy array is unwrapped).
    name : str
        The argument's name, for the message.
    minimum, maximum : int, optional
        Inclusive bounds.

    Returns
    -------
    int
        ``value`` as a Python int.

    Raises
    ------
    InvalidInputError
        Booleans, strings, non-integral or non-finite numbers, values outside the bounds.
    """
    if _is_bool(value) or isinstance(value, (str, bytes)):
        raise InvalidInputError(f"{name} must be an integer, got {_describe(value)} ({type(value).__name__})")
    if isinstance(value, np.ndarray) and value.size == 1 and value.ndim == 0:
        value = value.item()
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        v = int(value)
    else:
        raise InvalidInputError(f"{name} must be an integer, got {_describe(value)}")
    if minimum is not None and v < minimum:
        raise InvalidInputError(f"{name} must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise InvalidInputError(f"{name} must be <= {maximum}, got {v}")
    return v


def index(value, name: str, size: int, *, what: str = "entries") -> int:
    """An index into ``size`` items: an int (not a float, not a bool) with 0 <= value < size.

    Negative indices do not wrap around as Python's do: ``-1`` is an error, not the last item.

    Parameters
    ----------
    value : int
        The index (a 0-dimensional numpy integer array is unwrapped).
    name : str
        The argument's name, for the message.
    size : int
        How many items there are.
    what : str
        What the items are, for the message when there are none ("workers", "links", ...).

    Returns
    -------
    int
        ``value`` as a Python int.

    Raises
    ------
    InvalidInputError
        When ``size`` <= 0, or ``value`` is a boolean, not an integer, or outside 0..size-1.
    """
    if size <= 0:
        raise InvalidInputError(f"{name}: there are no {what} to index")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if _is_bool(value) or not isinstance(value, numbers.Integral) or not 0 <= int(value) < size:
        raise InvalidInputError(f"{name} must be an integer index in 0..{size - 1}, got {_describe(value)}")
    return int(value)


def random_seed(value, name: str = "seed"):
    """A random seed: None, an integer >= 0, or a :class:`numpy.random.Generator` (returned unchanged).

    Parameters
    ----------
    value : None, int or numpy.random.Generator
        The seed, as accepted by :func:`numpy.random.default_rng`.
    name : str
        The argument's name, for the message.

    Returns
    -------
    None, int or numpy.random.Generator
        ``value`` (an integral float becomes an int).

    Raises
    ------
    InvalidInputError
        Negative or non-integral numbers, booleans, strings and other types (via :func:`integer`).
    """
    if value is None or isinstance(value, np.random.Generator):
        return value
    return integer(value, name, minimum=0)


def choice(value, name: str, options: Iterable):
    """``value`` when it is one of ``options``; otherwise an error listing them.

    The comparison requires the same type as well as equality, so ``1`` does not match ``True`` or ``1.0``.

    Parameters
    ----------
    value : object
        The value given.
    name : str
        The argument's name, for the message.
    options : iterable
        The accepted values (usually strings: method names, modes).

    Returns
    -------
    object
        ``value`` unchanged.

    Raises
    ------
    InvalidInputError
        When ``value`` is not one of ``options`` (the message lists them).
    """
    options = tuple(options)
    try:
        ok = any(type(value) is type(o) and value == o for o in options)
    except (TypeError, ValueError):  # incomparable, or an array compared elementwise
        ok = False
    if not ok:
        raise InvalidInputError(f"{name} must be one of {list(options)}, got {_describe(value)}")
    return value


def size_limit(n: int, name: str, *, limit: int = MAX_ELEMENTS, what: str = "entries") -> int:
    """Raise before allocating when ``n`` (already an int) exceeds ``limit``.

    Parameters
    ----------
    n : int
        The number of entries a call would allocate or iterate over.
    name : str
        The argument's name, for the message.
    limit : int
        The largest accepted ``n``; default :data:`MAX_ELEMENTS` (2**30 float64 entries, 8 GiB).
    what : str
        What is counted, for the message ("entries", "requests", ...).

    Returns
    -------
    int
        ``n`` unchanged.

    Raises
    ------
    InvalidInputError
        When ``n > limit`` (the message gives the memory that would be needed, in GiB of float64).
    """
    if n > limit:
        raise InvalidInputError(
            f"{name}: {n:,} {what} would exceed the memory limit of {limit:,} (about {8 * limit / 2**30:.1f} GiB); "
            "use a smaller value"
        )
    return n


def sums_to(values: np.ndarray, total: float, name: str, *, rtol: float = 1e-9, what: str = "the demand") -> None:
    """Raise when ``values`` do not sum to ``total`` within a relative tolerance.

    Parameters
    ----------
    values : numpy.ndarray
        Already-checked numbers (e.g. per-path flows of one commodity).
    total : float
        The required sum (e.g. the commodity's demand).
    name : str
        The argument's name, for the message.
    rtol : float
        Relative tolerance, against ``max(|total|, |sum|)``.
    what : str
        What ``total`` is, for the message.

    Raises
    ------
    InvalidInputError
        When ``|sum(values) - total| > rtol * max(|total|, |sum(values)|)``.
    """
    s = float(np.sum(values))
    if abs(s - total) > rtol * max(abs(total), abs(s)) + 1e-300:
        raise InvalidInputError(f"{name} must sum to {what} {total:.12g}, got {s:.12g}")


def integer_array(values, name: str, *, ndim: int | None = None, minimum: int | None = None,
                  maximum: int | None = None) -> np.ndarray:
    """An array of integers (integral floats accepted, never truncated), optionally bounded; as int64.

    Parameters
    ----------
    values : array_like
        Integers, or floats that are exactly integers.
    name : str
        The argument's name, for the message.
    ndim : int, optional
        Required number of dimensions.
    minimum, maximum : int, optional
        Inclusive bounds on every entry.

    Returns
    -------
    numpy.ndarray
        An int64 array of the input's shape.

    Raises
    ------
    InvalidInputError
        What :func:`finite_array` refuses; a non-integral entry, an entry beyond 2**53 in magnitude (not exact
        in float64), or an entry outside the bounds (the first one is named by its index).
    """
    arr = finite_array(values, name, ndim=ndim)
    if not np.all(arr == np.round(arr)):
        i = np.argwhere(arr != np.round(arr))[0]
        raise InvalidInputError(f"{name} must hold integers; entry {_where(i)} is {arr[tuple(i)].item()!r}")
    if np.abs(arr).max(initial=0) > 2**53:
        raise InvalidInputError(f"{name} holds integers too large to represent exactly: {arr.max()!r}")
    for bound, bad, word in ((minimum, arr < (minimum if minimum is not None else 0), ">="),
                             (maximum, arr > (maximum if maximum is not None else 0), "<=")):
        if bound is not None and bad.any():
            i = np.argwhere(bad)[0]
            raise InvalidInputError(f"{name} entries must be {word} {bound}; entry {_where(i)} is "
                                    f"{int(arr[tuple(i)])}")
    return arr.astype(np.int64)


def flag(value, name: str) -> bool:
    """A boolean: True or False (numpy booleans too); 0, 1, "yes" and None are refused.

    Parameters
    ----------
    value : bool or numpy.bool_
        The flag.
    name : str
        The argument's name, for the message.

    Returns
    -------
    bool
        ``bool(value)``.

    Raises
    ------
    InvalidInputError
        When ``value`` is not a Python or numpy boolean.
    """
    if not _is_bool(value):
        raise InvalidInputError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def instance(value, kind, name: str, *, what: str | None = None):
    """``value`` when it is an instance of ``kind``; an error naming the expected type otherwise.

    Parameters
    ----------
    value : object
        The value given.
    kind : type or tuple of type
        The accepted class or classes (as for :func:`isinstance`).
    name : str
        The argument's name, for the message.
    what : str, optional
        How to describe the expected type in the message; default the class names.

    Returns
    -------
    object
        ``value`` unchanged.

    Raises
    ------
    InvalidInputError
        When ``value`` is not an instance of ``kind``.
    """
    if not isinstance(value, kind):
        expected = what or (" or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__)
        raise InvalidInputError(f"{name} must be a {expected}, got {_describe(value)} ({type(value).__name__})")
    return value


def sequence_of(values, kind, name: str, *, min_size: int = 1, what: str | None = None) -> list:
    """A list of instances of ``kind`` (from any iterable but a string or a mapping); entries named by index.

    Parameters
    ----------
    values : iterable
        The items.
    kind : type or tuple of type
        The accepted class or classes of every item.
    name : str
        The argument's name, for the message.
    min_size : int
        The fewest items accepted.
    what : str, optional
        How to describe the items in the message; default ``kind.__name__``.

    Returns
    -------
    list
        The items, in order.

    Raises
    ------
    InvalidInputError
        When ``values`` is a string, bytes, a dict or not iterable, has fewer than ``min_size`` items, or an item
        is not an instance of ``kind`` (named as ``name[i]``).
    """
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise InvalidInputError(f"{name} must be a sequence of {what or kind.__name__}, got {_describe(values)}")
    items = list(values)
    if len(items) < min_size:
        raise InvalidInputError(f"{name} needs at least {min_size} {what or kind.__name__}, got {len(items)}")
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise InvalidInputError(f"{name}[{i}] must be a {what or kind.__name__}, got {_describe(item)} "
                                    f"({type(item).__name__})")
    return items


def function(value, name: str):
    """A callable (a function or an object with ``__call__``); classes are accepted too.

    Parameters
    ----------
    value : callable
        The value given.
    name : str
        The argument's name, for the message.

    Returns
    -------
    callable
        ``value`` unchanged.

    Raises
    ------
    InvalidInputError
        When ``callable(value)`` is false.
    """
    if not callable(value):
        raise InvalidInputError(f"{name} must be callable, got {_describe(value)} ({type(value).__name__})")
    return value


def path(value, name: str = "path") -> Path:
    """A file-system path from a string or an ``os.PathLike``; empty strings and other types are refused.

    Parameters
    ----------
    value : str or os.PathLike
        The path (it need not exist; callers that read it check that).
    name : str
        The argument's name, for the message.

    Returns
    -------
    pathlib.Path
        ``Path(value)``.

    Raises
    ------
    InvalidInputError
        Bytes, other types, the empty string, a string holding a NUL character, or a value ``Path`` refuses.
    """
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or str(value) == "" \
            or "\x00" in str(value):
        raise InvalidInputError(f"{name} must be a file path (str or pathlib.Path), got {_describe(value)}")
    try:
        return Path(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} is not a valid path: {_describe(value)}") from exc


def pair(values, name: str, *, positive: bool = False) -> tuple[float, float]:
    """Two finite numbers >= 0 (``positive``: > 0), e.g. (prefill, decode); entries named by index.

    Parameters
    ----------
    values : array_like
        A sequence of exactly two numbers.
    name : str
        The argument's name, for the message.
    positive : bool
        Require both entries > 0 rather than >= 0.

    Returns
    -------
    tuple of (float, float)
        The two numbers.

    Raises
    ------
    InvalidInputError
        What :func:`nonnegative_array` refuses; a count other than two; a zero entry when ``positive``.
    """
    arr = nonnegative_array(values, name, ndim=1)
    if arr.size != 2:
        raise InvalidInputError(f"{name} must be two numbers, got {arr.size}")
    if positive and (arr <= 0).any():
        i = int(np.argmax(arr <= 0))
        raise InvalidInputError(f"{name}[{i}] must be > 0, got {arr[i]!r}")
    return float(arr[0]), float(arr[1])


def number_list(values, name: str, *, integers: bool = False) -> list:
    """A nonempty sequence of nonnegative numbers (integers, never truncated, with ``integers``) as a list.

    For the grids of experiments and sweeps (loads, fractions, worker counts, delays).

    Parameters
    ----------
    values : iterable of numbers
        The grid.
    name : str
        The argument's name, for the message.
    integers : bool
        Require integer entries (checked by :func:`integer_array`).

    Returns
    -------
    list
        The entries as Python floats, or ints with ``integers``.

    Raises
    ------
    InvalidInputError
        A string, a mapping or a non-iterable; what :func:`nonnegative_array` or :func:`integer_array` refuses;
        an empty sequence.
    """
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise InvalidInputError(f"{name} must be a sequence of numbers, got {_describe(values)}")
    values = list(values)
    arr = integer_array(values, name, ndim=1, minimum=0) if integers else nonnegative_array(values, name, ndim=1)
    if arr.size == 0:
        raise InvalidInputError(f"{name} must not be empty")
    return arr.tolist()
