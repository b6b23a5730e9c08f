"""Engine of the public-API fuzz suite.

- :func:`entry_points`: every function and class named in the ``__all__`` of every module of the package
  (defined in that module, so re-exports count once), minus :data:`NOT_FUZZED` (each with its reason).
- :func:`classify_call`: runs one call under a time limit and an address-space limit and classifies the
  outcome: ``named`` (a :class:`~gametheory.errors.GameTheoryError`), ``valid`` (a result without NaN),
  or a failure: ``internal`` (any other exception), ``nan`` (a NaN in the result), ``hang`` (over the
  time limit), ``memory`` (an allocation past the limit: a size the library should have refused).
- :data:`STATS`: counts per outcome and per entry point, printed at the end of the session.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import math
import os
import pkgutil
import resource
import signal
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

import gametheory
from gametheory.errors import GameTheoryError

#: modules (or module prefixes) not fuzzed, with the reason (each is covered elsewhere)
NOT_FUZZED = {
    "gametheory.__main__": "runs the command line on import (fuzzed through argv in test_cli_fuzz)",
    "gametheory.cli": "fuzzed through argv in test_cli_fuzz",
    "gametheory.commands": "the subcommands, fuzzed through argv in test_cli_fuzz",
    "gametheory.reproduce": "the paper's sections: fixed inputs, run by test_reproduce_all",
    "gametheory.serving.dynamo_live": "starts Dynamo processes and opens sockets; tests/test_dynamo.py",
}

#: seconds one fuzz call may take before it counts as a hang (GAMETHEORY_FUZZ_TIME_LIMIT overrides)
TIME_LIMIT = float(os.environ.get("GAMETHEORY_FUZZ_TIME_LIMIT", "20"))
#: bytes of address space a fuzz call may add to the process before an allocation fails
MEMORY_LIMIT = 4 * 2**30

FAILURES = ("internal", "nan", "hang", "memory")


@dataclass
class Stats:
    outcomes: Counter = dataclasses.field(default_factory=Counter)
    per_entry: dict = dataclasses.field(default_factory=dict)
    entry_points: set = dataclasses.field(default_factory=set)

    def record(self, entry: str, outcome: str) -> None:
        self.entry_points.add(entry)
        self.outcomes[outcome] += 1
        self.per_entry.setdefault(entry, Counter())[outcome] += 1


STATS = Stats()


class FuzzTimeout(BaseException):
    """Raised by the alarm inside a call that ran past :data:`TIME_LIMIT` (a BaseException: library code that
    catches Exception cannot swallow it)."""


def _fuzzed_module(name: str) -> bool:
    """Public modules (no component starting with an underscore) not excluded by :data:`NOT_FUZZED`."""
    private = any(part.startswith("_") for part in name.split("."))
    return not private and not any(name == m or name.startswith(m + ".") for m in NOT_FUZZED)


def entry_points() -> list[tuple[str, object]]:
    """(``"module:name"``, object) for every public function and class of the package, sorted."""
    out = []
    for info in pkgutil.walk_packages(gametheory.__path__, "gametheory."):
        if not _fuzzed_module(info.name):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
                if inspect.isclass(obj) and issubclass(obj, BaseException):
                    continue
                out.append((f"{module.__name__}:{name}", obj))
    return sorted(out, key=lambda e: e[0])


def modules_without_all() -> list[str]:
    """Fuzzed modules that define no ``__all__`` (their public names would escape the fuzzer)."""
    missing = []
    for info in pkgutil.walk_packages(gametheory.__path__, "gametheory."):
        if _fuzzed_module(info.name) and not hasattr(importlib.import_module(info.name), "__all__"):
            missing.append(info.name)
    return missing


def find_nan(value, depth: int = 0, path: str = "result") -> str | None:
    """Path of the first NaN in ``value`` (floats, numpy arrays, dicts, sequences, dataclasses), or None."""
    if depth > 4:
        return None
    if isinstance(value, float | np.floating):
        return path if math.isnan(value) else None
    if isinstance(value, complex | np.complexfloating):
        return path if np.isnan(value) else None
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and np.isnan(value).any():
            return f"{path}[{np.argwhere(np.isnan(value))[0].tolist()}]"
        if value.dtype.kind == "O" and value.size <= 10_000:
            for i, v in enumerate(value.ravel()):
                hit = find_nan(v, depth + 1, f"{path}.flat[{i}]")
                if hit:
                    return hit
        return None
    if isinstance(value, dict):
        for k, v in list(value.items())[:1000]:
            hit = find_nan(v, depth + 1, f"{path}[{k!r}]")
            if hit:
                return hit
        return None
    if isinstance(value, list | tuple):
        for i, v in enumerate(value[:1000]):
            hit = find_nan(v, depth + 1, f"{path}[{i}]")
            if hit:
                return hit
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            hit = find_nan(getattr(value, f.name, None), depth + 1, f"{path}.{f.name}")
            if hit:
                return hit
    return None


@contextlib.contextmanager
def limits(seconds: float = TIME_LIMIT, memory: int = MEMORY_LIMIT):
    """Run the block under a wall-clock alarm and an address-space limit of the current size + ``memory``."""
    def alarm(signum, frame):
        raise FuzzTimeout(f"over {seconds:g} s")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[0]) * resource.getpagesize()
    cap = current + memory
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def classify_call(entry: str, fn, args=(), kwargs=None) -> tuple[str, str]:
    """Call ``fn(*args, **kwargs)`` and classify it: (outcome, detail). Records the outcome in :data:`STATS`."""
    kwargs = kwargs or {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with limits():
                result = fn(*args, **kwargs)
                where = find_nan(result)
    except GameTheoryError as exc:
        outcome, detail = "named", f"{type(exc).__name__}: {exc}"
    except FuzzTimeout as exc:
        outcome, detail = "hang", str(exc)
    except MemoryError as exc:
        outcome, detail = "memory", f"MemoryError {exc}"
    except Exception as exc:  # noqa: BLE001 - every other exception is what the fuzzer looks for
        outcome, detail = "internal", f"{type(exc).__name__}: {exc}"
    else:
        outcome, detail = ("nan", f"NaN at {where}") if where else ("valid", "")
    STATS.record(entry, outcome)
    return outcome, detail


def describe_call(entry: str, args, kwargs) -> str:
    """A short, readable description of a call for failure messages."""
    def short(v):
        text = repr(v)
        return text if len(text) <= 120 else text[:117] + "..."

    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in (kwargs or {}).items()]
    return f"{entry}({', '.join(parts)})"
