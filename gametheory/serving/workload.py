"""Request workloads: the paper's 5-template prefix-sharing workload and user-defined ones.

A workload draws, per request, a template index (its shared prefix), an input length and an output length
(tokens), and says how requests arrive: closed-loop clients with an optional exponential think time, or open
Poisson arrivals. The same :class:`Workload` drives the simulator, the analytic model and the Dynamo replay
(``isl``, ``osl``, ``num_prefix_groups`` and ``shared_prefix_ratio`` are derived from it).

The paper's workload (section 7): 5 prompt templates, 128-token inputs, deterministic generation. It states
neither the output length nor how much of a prompt its template shares. :func:`paper_workload` takes the
output length as an argument (it is one of the two quantities calibrated in docs/regimes.md; the default is
:data:`gametheory.paper_setup.OUTPUT_TOKENS`) and shares the first
:data:`gametheory.paper_setup.SHARED_PREFIX_TOKENS` = 96 tokens (6 blocks of 16), the package's one assumption.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026 (section 7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gametheory._validate import instance
from gametheory.errors import InvalidInputError
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, SHARED_PREFIX_TOKENS, TEMPLATES
from gametheory.serving.engine import Cluster

__all__ = ["Workload", "cluster_and_workload", "paper_workload"]


def _length_pair(value, name: str) -> tuple[int, int]:
    try:
        lo, hi = value
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a (lo, hi) pair of token counts, got {value!r}") from exc
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InvalidInputError(f"{name} must hold integers, got {value!r}")
    if not 1 <= lo <= hi:
        raise InvalidInputError(f"{name} must satisfy 1 <= lo <= hi, got {(lo, hi)}")
    return int(lo), int(hi)


@dataclass(frozen=True)
class Workload:
    """A request workload.

    Parameters
    ----------
    n_templates : int
        Prompt templates (>= 1); requests of one template share their first ``prefix_tokens`` tokens.
    input_tokens, output_tokens : tuple of int
        (lo, hi) token counts; each request draws uniformly in [lo, hi] (lo = hi: fixed).
    prefix_tokens : int
        Shared prefix of a template, tokens (0 <= prefix <= the smallest input).
    weights : tuple of float or None
        Template popularity (uniform if None).
    think_ms : float
        Mean exponential think time of a closed-loop client between a response and its next request (ms, >= 0).
    arrival_rate_per_s : float or None
        Open Poisson arrivals at this rate (requests/s, > 0) instead of closed-loop clients.

    Raises
    ------
    InvalidInputError
        Any field out of its range, NaN or infinite.
    """

    n_templates: int = TEMPLATES
    input_tokens: tuple[int, int] = (INPUT_TOKENS, INPUT_TOKENS)
    output_tokens: tuple[int, int] = (OUTPUT_TOKENS, OUTPUT_TOKENS)
    prefix_tokens: int = SHARED_PREFIX_TOKENS
    weights: tuple[float, ...] | None = None
    think_ms: float = 0.0
    arrival_rate_per_s: float | None = None

    def __post_init__(self):
        if isinstance(self.n_templates, bool) or not isinstance(self.n_templates, (int, np.integer)) \
                or self.n_templates < 1:
            raise InvalidInputError(f"n_templates must be an integer >= 1, got {self.n_templates!r}")
        lo_in, _ = _length_pair(self.input_tokens, "input_tokens")
        _length_pair(self.output_tokens, "output_tokens")
        if isinstance(self.prefix_tokens, bool) or not isinstance(self.prefix_tokens, (int, np.integer)) \
                or not 0 <= self.prefix_tokens <= lo_in:
            raise InvalidInputError(f"prefix_tokens must be an integer in [0, {lo_in}] (the smallest input), "
                                    f"got {self.prefix_tokens!r}")
        if self.weights is not None:
            w = np.asarray(self.weights, float)
            if w.shape != (self.n_templates,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise InvalidInputError(f"weights must hold n_templates = {self.n_templates} finite nonnegative "
                                        f"entries with a positive sum, got {self.weights!r}")
        if not (isinstance(self.think_ms, (int, float, np.floating)) and math.isfinite(self.think_ms)
                and self.think_ms >= 0):
            raise InvalidInputError(f"think_ms must be a finite number >= 0, got {self.think_ms!r}")
        rate = self.arrival_rate_per_s
        if rate is not None and not (isinstance(rate, (int, float, np.floating)) and math.isfinite(rate)
                                     and rate > 0):
            raise InvalidInputError(f"arrival_rate_per_s must be a finite number > 0 (requests/s) or None, "
                                    f"got {rate!r}")

    @property
    def mean_input(self) -> float:
        """Mean input length (tokens)."""
        return sum(self.input_tokens) / 2.0

    @property
    def mean_output(self) -> float:
        """Mean output length (tokens)."""
        return sum(self.output_tokens) / 2.0

    @property
    def mean_context(self) -> float:
        """Mean KV length of a decoding request (tokens): input + half the output."""
        return self.mean_input + self.mean_output / 2.0

    @property
    def shared_prefix_ratio(self) -> float:
        """Shared prefix / mean input (Dynamo's synthetic-workload argument)."""
        return self.prefix_tokens / self.mean_input

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw ``n`` requests.

        Parameters
        ----------
        n : int
            Requests to draw.
        rng : numpy.random.Generator
            Random stream.

        Returns
        -------
        dict
            Arrays ``template``, ``input_tokens``, ``output_tokens`` (int64, length n).
        """
        p = None if self.weights is None else np.asarray(self.weights, float) / sum(self.weights)
        return {
            "template": rng.choice(self.n_templates, size=n, p=p).astype(np.int64),
            "input_tokens": rng.integers(self.input_tokens[0], self.input_tokens[1] + 1, n),
            "output_tokens": rng.integers(self.output_tokens[0], self.output_tokens[1] + 1, n),
        }


def paper_workload(output_tokens: int = OUTPUT_TOKENS, **changes) -> Workload:
    """The paper's workload: 5 templates, 128-token inputs sharing their first 96 tokens, a fixed output length.

    Parameters
    ----------
    output_tokens : int
        Tokens generated per request (the paper does not state it; docs/regimes.md calibrates it).
    **changes
        Other :class:`Workload` fields (``think_ms``, ``arrival_rate_per_s``, ...).

    Returns
    -------
    Workload

    Raises
    ------
    InvalidInputError
        As :class:`Workload`.
    """
    o = output_tokens
    if isinstance(o, bool) or not isinstance(o, (int, np.integer)):
        raise InvalidInputError(f"output_tokens must be an integer >= 1, got {o!r}")
    return Workload(output_tokens=(int(o), int(o)), **changes)


def cluster_and_workload(cluster, workload=None) -> tuple[Cluster, Workload]:
    """The two inputs every serving model of a cluster takes, checked: the analytic model
    (:mod:`gametheory.serving.queueing`), the simulator (:class:`~gametheory.serving.simulator.ClusterSim`) and
    Game 1's knee (:func:`gametheory.serving.pool_costs.game1_knee`).

    Parameters
    ----------
    cluster : Cluster
        Profile, layout, KV link and engine configuration (:class:`~gametheory.serving.engine.Cluster`).
    workload : Workload, optional
        The requests; default :func:`paper_workload`.

    Returns
    -------
    (Cluster, Workload)
        ``cluster`` and the workload (the paper's when ``workload`` is None).

    Raises
    ------
    InvalidInputError
        ``cluster`` is not a Cluster or ``workload`` not a Workload (the message names the argument and the type
        it got).
    """
    instance(cluster, Cluster, "cluster", what="Cluster (gametheory.serving.engine)")
    wl = paper_workload() if workload is None else instance(workload, Workload, "workload")
    return cluster, wl
