"""Values the fuzzer feeds the public API: junk of every kind, and mutations of a valid argument.

:func:`junk` draws from a fixed pool (NaN, infinities, negatives, zero, huge and tiny numbers, empty and ragged
sequences, strings, booleans, None, wrong objects, callables returning NaN). :func:`mutation` draws a value
close to a valid one: a NaN, inf or negative entry in an array, one entry too few or too many, a ragged
row, an index one past the end, a float where an integer is meant, a string for a number, a number scaled
by 1e300 or 1e-300, an option that is not in the list.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from gametheory.latency import MM1, Affine, LatencyCurve

NAN, INF = math.nan, math.inf


def _nan_callable(*args, **kwargs):
    return math.nan


def _negative_callable(*args, **kwargs):
    return -1.0


def _inf_callable(*args, **kwargs):
    return math.inf


def _string_callable(*args, **kwargs):
    return "ms"


CALLABLES = [_nan_callable, _negative_callable, _inf_callable, _string_callable]

SCALARS = [NAN, INF, -INF, -1, -1.5, 0, 0.0, -0.0, 1e300, -1e300, 1e-300, 5e-324, 2**64, 10**12, 0.5, 2.5, 3,
           True, False, np.float64(NAN), np.int64(-1)]
SEQUENCES = [[], [NAN], [INF], [-1.0], [-1.0, 2.0], [1.0, NAN, 2.0], [[1.0], [1.0, 2.0]], [[1.0, 2.0], [3.0]],
             [1e300, 1e300], [1e-300, 1e-300], ["a", "b"], [None], [True, False], (), np.array([]),
             np.zeros((0, 3)), np.full(3, INF), np.zeros((2, 2, 2)), np.ones((1, 1)), [[]], {}]
OTHERS = [None, "", "a", "nope", b"x", object(), Affine(1.0, 1.0), MM1(2.0), [Affine(1.0, 1.0), MM1(2.0)],
          {"a": 1.0}, {(1, 2): NAN}, *CALLABLES, 1j]

JUNK = SCALARS + SEQUENCES + OTHERS


def junk() -> st.SearchStrategy:
    """Any value of the junk pool."""
    return st.sampled_from(JUNK)


def _array_mutations(arr: np.ndarray) -> list:
    if arr.dtype.kind == "b":  # booleans: flips, numbers where flags are meant, the wrong shape
        return [~arr, arr.astype(float) * 2.0, arr.astype(float) - 1.0, arr[:-1] if arr.size else arr, arr.T,
                arr.ravel(), arr.astype(str)]
    out = [[], arr[:-1] if arr.size else [1.0], np.append(arr.ravel(), 1.0), arr * 1e300, arr * 1e-300, -arr - 1,
           arr.astype(str), arr.tolist() + ["x"], arr[None], np.full_like(arr, np.nan, dtype=float)]
    flat = arr.astype(float).ravel()
    for bad in (NAN, INF, -INF, -1.0, 1e308, 0.0):
        if flat.size:
            m = flat.copy()
            m[len(m) // 2] = bad
            out.append(m.reshape(arr.shape))
    if arr.ndim == 1 and arr.size >= 2:
        out.append([arr[:1].tolist(), arr.tolist()])  # ragged
    if arr.ndim == 2:
        out += [arr.T, arr.ravel(), [list(r) for r in arr[:-1]] + [list(arr[-1][:-1])]]
    return out


def mutations_of(value) -> list:
    """Values near ``value``: each is wrong in one way (or extreme)."""
    if isinstance(value, bool | np.bool_):
        return [None, "yes", 2, NAN]
    if isinstance(value, int | np.integer):
        v = int(value)
        return [-1, -v - 1, v + 1, v * 1000 + 7, 10**9, 10**18, 2**64, v + 0.5, float(v) + 1e-9, NAN, INF, str(v),
                True, None, 0]
    if isinstance(value, float | np.floating):
        v = float(value)
        return [NAN, INF, -INF, -v - 1.0, -1e-300, 0.0, v * 1e300 if v else 1e300, v * 1e-300, 1e308, 5e-324,
                str(v), True, None, [v, v]]
    if isinstance(value, str):
        return ["", "nope", value.upper() + "_", None, 1, b"x", [value]]
    if isinstance(value, LatencyCurve):
        return [None, "curve", 1.0, _nan_callable, [value]]
    if callable(value) and not isinstance(value, type):
        return [None, 1.0, "f", *CALLABLES]
    if isinstance(value, dict):
        out = [{}, None, [1, 2], {"nope": 1.0}]
        if value:
            k0 = next(iter(value))
            for bad in (NAN, -1.0, INF, "x", None):
                m = dict(value)
                m[k0] = bad
                out.append(m)
        return out
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return _array_mutations(value)
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, LatencyCurve) for v in value):
            return [[], [None], list(value) + ["x"], list(value)[:1] + [1.0], [value]]
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.dtype.kind in "biuf":
            return _array_mutations(arr) + [tuple(value)[:-1]]
        out = [[], None, list(value)[:-1], list(value) + [None]]
        for i, v in enumerate(value[:3]):
            for m in mutations_of(v)[:6]:
                c = list(value)
                c[i] = m
                out.append(type(value)(c) if isinstance(value, tuple) else c)
        return out
    return [None, 1.0, "x", NAN]


def mutation(value) -> st.SearchStrategy:
    """A value near ``value`` (see :func:`mutations_of`), or, now and then, any junk."""
    near = mutations_of(value)
    return st.one_of(st.sampled_from(near), junk()) if near else junk()
