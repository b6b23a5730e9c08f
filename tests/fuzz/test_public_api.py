"""Every public entry point, fed bad input, answers with a named error or a valid result.

The entry points are read from the ``__all__`` of every module (:func:`fuzz.harness.entry_points`), so a
new public function is fuzzed without being listed here. For each one, hypothesis draws calls:

- from a valid call (:data:`fuzz.baselines.CALLS`) with one argument replaced by a value near it that is
  wrong in one way (a NaN entry, a negative, one entry too few, a ragged row, an index past the end, 2.5
  where an integer is meant, a string for a number, a number scaled by 1e300, ...) or by junk;
- without a baseline, from the signature: every required argument junk, every optional one its default or
  junk;
- on instances of the main classes, each public method with one argument broken
  (:data:`fuzz.baselines.METHODS`).

Each call must raise a subclass of :class:`~gametheory.errors.GameTheoryError` or return a result without
NaN, within 20 s and 4 GiB of new address space; anything else (TypeError, IndexError, ZeroDivisionError,
a NaN, a hang, a MemoryError) fails the test with the call that caused it. The counts are printed at the end
of the session (``tests/fuzz/conftest.py``). Containers of results (dataclasses without validation) are
not constructed from junk: they are outputs, never inputs.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import baselines
from fuzz.harness import FAILURES, classify_call, describe_call, entry_points, find_nan, modules_without_all
from fuzz.values import junk, mutation

ENTRIES = dict(entry_points())

#: entry points that hold or show the caller's own values: a NaN the caller passed may come back
PASS_THROUGH = {"gametheory.display:row_dict", "gametheory.display:Table", "gametheory.display:format_value"}


def _validates(cls) -> bool:
    """Classes worth fuzzing as constructors: not interfaces (typing.Protocol) and not plain result containers
    (a dataclass without checks)."""
    if getattr(cls, "_is_protocol", False):
        return False
    if not dataclasses.is_dataclass(cls):
        return True
    return "__post_init__" in vars(cls) or "__init__" in vars(cls) and not _generated_init(cls)


def _generated_init(cls) -> bool:
    init = vars(cls).get("__init__")
    return init is not None and getattr(getattr(init, "__code__", None), "co_filename", "") == "<string>"


FUZZED = sorted(name for name, obj in ENTRIES.items() if not inspect.isclass(obj) or _validates(obj))


def _consume(result):
    """Iterate generators and iterators (lazy entry points fail only when consumed)."""
    if inspect.isgenerator(result) or (hasattr(result, "__next__") and hasattr(result, "__iter__")):
        return list(itertools.islice(result, 1000))
    return result


def _call(fn):
    def run(*args, **kwargs):
        return _consume(fn(*args, **kwargs))

    return run


def _draw_from_baseline(data, entry):
    args, kwargs = data.draw(st.sampled_from(baselines.CALLS[entry]), label="baseline")
    args, kwargs = list(args), dict(kwargs)
    slots = [("arg", i) for i in range(len(args))] + [("kw", k) for k in kwargs]
    sig = inspect.signature(ENTRIES[entry])
    positional = list(sig.parameters)[:len(args)]
    optional = [p.name for p in sig.parameters.values()
                if p.default is not inspect.Parameter.empty and p.name not in kwargs and p.name not in positional
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    slots += [("new", k) for k in optional]
    if not slots:
        return args, kwargs
    kind, key = data.draw(st.sampled_from(slots), label="argument")
    if kind == "arg":
        args[key] = data.draw(mutation(args[key]), label=f"arg {key}")
    elif kind == "kw":
        kwargs[key] = data.draw(mutation(kwargs[key]), label=key)
    else:
        default = sig.parameters[key].default
        kwargs[key] = data.draw(mutation(default) if default is not None else junk(), label=key)
    return args, kwargs


def _draw_from_signature(data, fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return [], {}
    args, kwargs = [], {}
    params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    forced = data.draw(st.sampled_from(params), label="forced") if params else None
    for p in params:
        keep_default = p.default is not inspect.Parameter.empty and p is not forced and data.draw(
            st.booleans(), label=f"default {p.name}")
        if keep_default:
            continue
        value = data.draw(junk(), label=p.name)
        if p.kind == p.POSITIONAL_ONLY:
            args.append(value)
        else:
            kwargs[p.name] = value
    return args, kwargs


@pytest.mark.parametrize("entry", FUZZED)
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_entry_point(entry, data):
    fn = ENTRIES[entry]
    if entry in baselines.CALLS and data.draw(st.integers(0, 4), label="mode") > 0:
        args, kwargs = _draw_from_baseline(data, entry)
    else:
        args, kwargs = _draw_from_signature(data, fn)
    outcome, detail = classify_call(entry, _call(fn), args, kwargs)
    if outcome == "nan" and entry in PASS_THROUGH and find_nan((args, kwargs)):
        outcome = "valid"  # the NaN is the caller's own value, shown back (a table of the user's rows)
    assert outcome not in FAILURES, f"{outcome}: {describe_call(entry, args, kwargs)} -> {detail}"


METHOD_CASES = sorted(f"{entry}.{method}" for entry, methods in baselines.METHODS.items()
                      for method, _, _ in methods)


def _instance(entry):
    args, kwargs = baselines.CALLS[entry][0]
    return ENTRIES[entry](*args, **kwargs)


@pytest.mark.parametrize("case", sorted(set(METHOD_CASES)))
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_method(case, data):
    entry, method = case.rsplit(".", 1)
    specs = [(a, k) for m, a, k in baselines.METHODS[entry] if m == method]
    args, kwargs = data.draw(st.sampled_from(specs), label="baseline")
    args, kwargs = list(args), dict(kwargs)
    slots = [("arg", i) for i in range(len(args))] + [("kw", k) for k in kwargs]
    if slots:
        kind, key = data.draw(st.sampled_from(slots), label="argument")
        if kind == "arg":
            args[key] = data.draw(mutation(args[key]), label=f"arg {key}")
        else:
            kwargs[key] = data.draw(mutation(kwargs[key]), label=key)
    bound = getattr(_instance(entry), method)
    outcome, detail = classify_call(case, _call(bound), args, kwargs)
    assert outcome not in FAILURES, f"{outcome}: {describe_call(case, args, kwargs)} -> {detail}"


def test_baselines_are_valid_and_named_entry_points():
    # a baseline that no longer names a public entry point, or no longer runs, would fuzz nothing
    assert set(baselines.CALLS) <= set(ENTRIES), set(baselines.CALLS) - set(ENTRIES)
    for entry, calls in baselines.CALLS.items():
        for args, kwargs in calls:
            outcome, detail = classify_call(entry, _call(ENTRIES[entry]), args, kwargs)
            assert outcome == "valid", f"baseline {describe_call(entry, args, kwargs)}: {outcome} {detail}"


def test_every_fuzzed_module_declares_all():
    assert modules_without_all() == []
