"""Input checks shared by the package: each raises InvalidInputError naming the field and value."""

from __future__ import annotations

import numpy as np

from gametheory.errors import InvalidInputError


def finite_array(values, name: str, *, ndim: int | None = None, min_size: int = 0) -> np.ndarray:
    """Return ``values`` as a float array; reject NaN/inf, wrong dimension, or too few entries."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numeric, got {values!r}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise InvalidInputError(f"{name} needs at least {min_size} entries, got {arr.size}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.argwhere(bad)[0]
        where = tuple(int(i) for i in idx) if arr.ndim > 1 else int(idx[0]) if arr.ndim == 1 else ()
        raise InvalidInputError(f"{name} must be finite; entry {where} is {arr[tuple(idx)]!r}")
    return arr


def nonnegative_array(values, name: str, **kwargs) -> np.ndarray:
    """As :func:`finite_array`, also rejecting negative entries."""
    arr = finite_array(values, name, **kwargs)
    if (arr < 0).any():
        idx = np.argwhere(arr < 0)[0]
        raise InvalidInputError(f"{name} must be >= 0; entry {tuple(int(i) for i in idx)} is {arr[tuple(idx)]!r}")
    return arr


def finite_scalar(value, name: str) -> float:
    """Return ``value`` as a finite float or raise."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a number, got {value!r}") from exc
    if not np.isfinite(v):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    return v


def nonnegative_scalar(value, name: str) -> float:
    """Return ``value`` as a finite float >= 0 or raise."""
    v = finite_scalar(value, name)
    if v < 0:
        raise InvalidInputError(f"{name} must be >= 0, got {v!r}")
    return v


def positive_scalar(value, name: str) -> float:
    """Return ``value`` as a finite float > 0 or raise."""
    v = finite_scalar(value, name)
    if v <= 0:
        raise InvalidInputError(f"{name} must be > 0, got {v!r}")
    return v
