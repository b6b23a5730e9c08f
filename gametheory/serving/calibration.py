"""Calibration of the engine model's two unknowns from one observation of the paper, and what it predicts.

The paper states neither the output length of its workload nor how many requests its single prefill worker
processes per pass. Both move the knee. We infer them from ONE observation, the 70B TP4 1P/5D knee in
(96, 128] (paper section 8: C = 96 lies below it, C = 128 is the first grid point past it), and adjust nothing
else: every other number of docs/regimes.md is a prediction.

One interval cannot pin two unknowns: the analytic knee (:func:`gametheory.serving.queueing.analytic_knee`)
lies in (96, 128] along a one-dimensional family of (prefill batch b, output length O), from serial prefill
(b = 1) to the largest batch for which some output length still fits. We close the family with one stated
rule and propagate the rest of it to every prediction:

1. the admissible prefill batches are the integers b in [1, b_max] (b_max = ``max_num_seqs``) for which some
   output length puts the knee in the interval; they form a range [b_lo, b_hi];
2. the calibrated batch is its geometric midpoint ``b* = round(sqrt(b_lo b_hi))``: the median under a
   log-uniform prior on the batch, a scale-free choice that favours neither end;
3. the calibrated output length O* puts the knee of (b*, O) nearest the interval's midpoint (112).

Every other engine setting stays at vLLM's defaults (:data:`gametheory.serving.engine.VLLM_DEFAULTS`); the
shared prefix (96 tokens) and the KV links of :mod:`gametheory.paper_setup` are fixed assumptions, not
calibrated. :meth:`Calibration.family`
gives the whole admissible family, so a prediction can be quoted with the range the observation allows.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, section 8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

from gametheory import paper_setup
from gametheory.errors import InvalidInputError
from gametheory.serving.engine import VLLM_DEFAULTS, Cluster, EngineConfig, paper_cluster
from gametheory.serving.queueing import analytic_knee
from gametheory.serving.workload import Workload, paper_workload

__all__ = ["Calibration", "PAPER_KNEE", "calibrate"]

#: the observation: the knee of the 70B TP4 1P/5D setup lies in (96, 128] (paper section 8)
PAPER_KNEE = tuple(float(v) for v in paper_setup.PAPER_KNEE)
_MAX_OUTPUT = 4096


@dataclass(frozen=True)
class Calibration:
    """The calibrated engine and workload, and the observation they came from.

    Parameters
    ----------
    prefill_batch : int
        Requests per prefill step (``EngineConfig.max_prefill_seqs``), b*.
    output_tokens : int
        Output tokens per request, O*.
    setup : str
        The observed setup (``"70b_1p5d"``).
    interval : tuple of float
        The observed knee interval (low, high].
    batch_range : tuple of int
        Admissible prefill batches [b_lo, b_hi].
    knee : float
        Analytic knee of the calibrated model on the observed setup.
    engine : EngineConfig
        The base engine with ``max_prefill_seqs = b*``.
    prefix_tokens : int
        The shared prefix of a template assumed (default :data:`gametheory.paper_setup.SHARED_PREFIX_TOKENS`).
    """

    prefill_batch: int
    output_tokens: int
    setup: str
    interval: tuple[float, float]
    batch_range: tuple[int, int]
    knee: float
    engine: EngineConfig
    prefix_tokens: int = paper_setup.SHARED_PREFIX_TOKENS

    @property
    def parameters(self) -> dict:
        """The inferred unknowns, ``{name: value}``."""
        return {"max_prefill_seqs": self.prefill_batch, "output_tokens": self.output_tokens}

    @property
    def observation(self) -> str:
        """The observation, in words."""
        lo, hi = self.interval
        return (f"paper section 8: the knee of the {self.setup} setup lies in ({lo:g}, {hi:g}] (C = {lo:g} below "
                f"it, C = {hi:g} the first grid point past it); the analytic knee is placed at the midpoint "
                f"{(lo + hi) / 2:g}")

    def workload(self, **changes) -> Workload:
        """The paper's workload with the calibrated output length.

        Parameters
        ----------
        **changes
            Other :class:`~gametheory.serving.workload.Workload` fields.

        Returns
        -------
        Workload
        """
        return paper_workload(self.output_tokens, **{"prefix_tokens": self.prefix_tokens, **changes})

    def cluster(self, setup: str) -> Cluster:
        """A paper setup with the calibrated engine.

        Parameters
        ----------
        setup : str
            A name of :data:`gametheory.serving.engine.PAPER_SETUPS`.

        Returns
        -------
        Cluster
        """
        return paper_cluster(setup, self.engine)

    def family(self, batches=None) -> list[tuple[int, int]]:
        """The admissible (b, O(b)) pairs of the one-dimensional family the observation leaves.

        Parameters
        ----------
        batches : iterable of int, optional
            Prefill batches (default 9 log-spaced values over the admissible range).

        Returns
        -------
        list of (int, int)
            For each batch, the output length that puts the observed setup's analytic knee nearest the
            interval's midpoint.
        """
        lo, hi = self.batch_range
        if batches is None:
            batches = sorted({int(round(x)) for x in _geomspace(lo, hi, 9)})
        cluster = paper_cluster(self.setup)
        mid = sum(self.interval) / 2
        return [(b, _nearest_output(cluster, replace(self.engine, max_prefill_seqs=b), mid, self.prefix_tokens))
                for b in batches]

    def to_dict(self) -> dict:
        """The calibration record of ``out/summary.json``.

        Returns
        -------
        dict
            ``parameters`` ({name: value}), ``observation`` (words), ``rule``, ``batch_range``,
            ``knee_c_analytic`` and the ``fixed`` assumptions.
        """
        return {"parameters": self.parameters, "observation": self.observation,
                "rule": "admissible prefill batches [b_lo, b_hi]; b* = round(sqrt(b_lo b_hi)); O* puts the knee "
                        "nearest the interval's midpoint",
                "batch_range": list(self.batch_range), "knee_c_analytic": self.knee,
                "fixed": {"engine": "vLLM v0.14.1 defaults on B200 (max_num_seqs 1024, max_num_batched_tokens "
                                    "8192, chunked prefill, prefix caching, block 16)",
                          "shared_prefix_tokens": self.prefix_tokens,
                          "input_tokens": paper_setup.INPUT_TOKENS}}


def _geomspace(lo: float, hi: float, n: int) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo * (hi / lo) ** (k / (n - 1)) for k in range(n)]


def _knee(cluster: Cluster, engine: EngineConfig, output_tokens: int, prefix_tokens: int) -> float:
    return analytic_knee(replace(cluster, engine=engine), paper_workload(int(output_tokens),
                                                                          prefix_tokens=prefix_tokens))


def _nearest_output(cluster: Cluster, engine: EngineConfig, target: float, prefix_tokens: int) -> int:
    """Output length whose knee is nearest ``target`` (the knee grows with the output length: bisection)."""
    lo, hi = 1, _MAX_OUTPUT
    if _knee(cluster, engine, lo, prefix_tokens) >= target:
        return lo
    if _knee(cluster, engine, hi, prefix_tokens) <= target:
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _knee(cluster, engine, mid, prefix_tokens) <= target:
            lo = mid
        else:
            hi = mid
    k_lo, k_hi = _knee(cluster, engine, lo, prefix_tokens), _knee(cluster, engine, hi, prefix_tokens)
    return lo if abs(k_lo - target) <= abs(k_hi - target) else hi


def _admissible(cluster: Cluster, engine: EngineConfig, interval, prefix_tokens: int) -> bool:
    """Some output length puts the knee in (low, high]."""
    low, high = interval
    o = _nearest_output(cluster, engine, (low + high) / 2, prefix_tokens)
    return any(low < _knee(cluster, engine, x, prefix_tokens) <= high for x in (o, max(o - 1, 1), o + 1))


@lru_cache(maxsize=8)
def calibrate(setup: str = "70b_1p5d", interval: tuple[float, float] = PAPER_KNEE,
              base: EngineConfig = VLLM_DEFAULTS, prefix_tokens: int = paper_setup.SHARED_PREFIX_TOKENS
              ) -> Calibration:
    """Infer (prefill batch, output length) from the knee interval of one setup (module docstring).

    Parameters
    ----------
    setup : str
        The observed setup (:data:`gametheory.serving.engine.PAPER_SETUPS`).
    interval : tuple of float
        Observed knee interval (low, high], clients.
    base : EngineConfig
        Every other engine setting (default vLLM's).
    prefix_tokens : int
        The shared prefix of a template, an assumption and not calibrated (default 96 tokens,
        :data:`gametheory.paper_setup.SHARED_PREFIX_TOKENS`); another value shows how the predictions depend on it.

    Returns
    -------
    Calibration

    Raises
    ------
    InvalidInputError
        An interval that is not 0 < low < high, a prefix outside [0, 128], or no engine configuration with a knee
        in it.

    References
    ----------
    Module docstring.
    """
    low, high = (float(v) for v in interval)
    prefix = paper_workload(1, prefix_tokens=prefix_tokens).prefix_tokens  # checked by the Workload
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise InvalidInputError(f"interval must be (low, high] with 0 < low < high, got {interval!r}")
    cluster = paper_cluster(setup)
    b_max = base.max_num_seqs

    def ok(b):
        return _admissible(cluster, replace(base, max_prefill_seqs=b), (low, high), prefix)

    admissible = [b for b in (1, 2, 3, 4) if ok(b)]
    if not admissible:
        raise InvalidInputError(f"no prefill batch from 1 puts the {setup} knee in ({low:g}, {high:g}]")
    b_lo = admissible[0]
    lo_b, hi_b = max(admissible), b_max  # the admissible batches form a range: bisect its upper end
    if ok(hi_b):
        lo_b = hi_b
    while hi_b - lo_b > 1:
        mid = (lo_b + hi_b) // 2
        if ok(mid):
            lo_b = mid
        else:
            hi_b = mid
    b_hi = lo_b
    b_star = int(round(math.sqrt(b_lo * b_hi)))
    engine = replace(base, max_prefill_seqs=b_star)
    o_star = _nearest_output(cluster, engine, (low + high) / 2, prefix)
    return Calibration(b_star, o_star, setup, (low, high), (b_lo, b_hi), _knee(cluster, engine, o_star, prefix),
                       engine, prefix)
