"""The paper's adaptive router controller (section 6) and the actuators it drives.

State machine (:class:`AdaptiveController`): every poll (5 s in the paper) it reads TTFT P99 (ms), updates
an exponentially weighted moving average ``e <- alpha * x + (1 - alpha) * e`` and maps ``e`` to a regime
with thresholds ``theta1 < theta2`` (ms, or fractions of a baseline TTFT via :meth:`from_baseline`):

====================  =====================  =====  =====
regime                trigger                tau    omega
====================  =====================  =====  =====
0 below saturation    e < theta1             0      1
1 transition          theta1 <= e < theta2   0.7    1.0
2 saturated           e >= theta2            0.8    0.1
====================  =====================  =====  =====

Anti-flapping: **hysteresis**, not a dwell time. The controller escalates as soon as the EWMA crosses a
threshold (overload hurts at once, so a dwell time would only delay the fix), and de-escalates from regime k
only when the EWMA falls below ``(1 - hysteresis) * theta_k``. Noise of relative size below the band cannot
move it back and forth; a dwell time would still flap at its own period under a signal that sits on a
threshold. The EWMA filters single-poll spikes before either rule sees them.

Actuators (:class:`Actuator`): ``run_interval(tau, omega) -> IntervalReport`` serves one poll interval of
traffic with the given router setting and returns what a Prometheus poll would report.
:class:`ReplayActuator` drives NVIDIA Dynamo's real KV router on the replay's virtual clock
(:mod:`gametheory.serving.dynamo`). :class:`gametheory.serving.sim_actuator.SimulatorActuator` drives our
discrete-event simulator (one continuous simulation, state carried across intervals). The live stack
reads TTFT from the frontend's ``/metrics`` histogram:
:func:`histogram_quantile` is the parser it uses (Prometheus' ``histogram_quantile`` on bucket deltas).

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, section 6 (the
   adaptive controller: EWMA of TTFT P99 polled every 5 s, thresholds, Table 2) and section 8 (experiment 3,
   static defaults against the adaptive controller under a load ramp).
.. [2] NVIDIA Dynamo KV router, https://github.com/ai-dynamo/dynamo, ``lib/kv-router`` (``router_temperature``
   and the overlap weight that tau and omega set).
.. [3] Prometheus, "histogram_quantile()", https://prometheus.io/docs/prometheus/latest/querying/functions/
   (linear interpolation inside the bucket holding the rank; the highest finite bound when the rank falls
   in the +Inf bucket); "Exposition formats" (the text format :func:`parse_histogram` reads).
.. [4] J. S. Hunter, "The exponentially weighted moving average", J. Quality Technology 18(4), 1986.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gametheory._progress import progress
from gametheory._validate import (
    finite_scalar,
    function,
    instance,
    integer,
    integer_array,
    nonnegative_array,
    pair,
    positive_scalar,
)
from gametheory.errors import InvalidInputError
from gametheory.paper_setup import ROUTER_TABLE

__all__ = [
    "PAPER_TABLE",
    "AdaptiveController",
    "Decision",
    "Actuator",
    "IntervalReport",
    "ReplayActuator",
    "run_controller",
    "run_trace",
    "RampOutcome",
    "static_vs_adaptive",
    "histogram_quantile",
    "parse_histogram",
]

# regime -> (tau = router temperature, omega = overlap_score_weight); the paper's Table 2.
PAPER_TABLE = ROUTER_TABLE


@dataclass(frozen=True)
class Decision:
    """One poll's outcome: the observed TTFT P99 (ms), its EWMA (ms), the regime and its router setting.

    Parameters
    ----------
    ttft_p99_ms : float
        TTFT P99 observed in the poll (ms).
    ewma_ms : float
        The EWMA after this poll (ms).
    regime : int
        0 below saturation, 1 transition, 2 saturated.
    tau : float
        Router temperature for the next interval.
    omega : float
        Overlap weight for the next interval.
    """

    ttft_p99_ms: float
    ewma_ms: float
    regime: int
    tau: float
    omega: float


@dataclass
class AdaptiveController:
    """EWMA-of-TTFT-P99 controller with two thresholds and hysteresis (see module docstring).

    Parameters
    ----------
    theta1_ms, theta2_ms : float
        Absolute TTFT thresholds (ms), ``0 < theta1_ms < theta2_ms``.
    alpha : float, optional
        EWMA weight of the newest poll, in (0, 1] (default 0.5).
    hysteresis : float, optional
        Relative band below a threshold that the EWMA must cross to de-escalate, in [0, 1) (default 0.2).
    table : tuple of 3 (tau, omega) pairs, optional
        Router setting per regime (default the paper's Table 2, :data:`PAPER_TABLE`).

    Raises
    ------
    InvalidInputError
        Non-positive or unordered thresholds, ``alpha`` outside (0, 1], ``hysteresis`` outside [0, 1), or a
        table without 3 rows.
    """

    theta1_ms: float
    theta2_ms: float
    alpha: float = 0.5
    hysteresis: float = 0.2
    table: tuple = PAPER_TABLE
    ewma_ms: float | None = field(default=None, init=False)
    regime: int = field(default=0, init=False)

    def __post_init__(self):
        t1 = positive_scalar(self.theta1_ms, "theta1_ms")
        t2 = positive_scalar(self.theta2_ms, "theta2_ms")
        if not t1 < t2:
            raise InvalidInputError(f"theta1_ms must be < theta2_ms, got {t1} >= {t2}")
        a = finite_scalar(self.alpha, "alpha")
        if not 0 < a <= 1:
            raise InvalidInputError(f"alpha must be in (0, 1], got {a}")
        h = finite_scalar(self.hysteresis, "hysteresis")
        if not 0 <= h < 1:
            raise InvalidInputError(f"hysteresis must be in [0, 1), got {h}")
        if len(self.table) != 3:
            raise InvalidInputError(f"table must have 3 (tau, omega) rows, got {len(self.table)}")

    @classmethod
    def from_baseline(cls, baseline_ttft_ms: float, f1: float = 2.0, f2: float = 10.0, **kw) -> AdaptiveController:
        """Thresholds as multiples of a baseline (unloaded) TTFT, as the paper advises: theta_k = f_k x base.

        Parameters
        ----------
        baseline_ttft_ms : float
            Unloaded TTFT (ms, > 0).
        f1, f2 : float, optional
            Multipliers of the two thresholds (defaults 2 and 10).
        **kw
            Other fields (``alpha``, ``hysteresis``, ``table``).

        Returns
        -------
        AdaptiveController
            With ``theta1_ms = f1 * baseline_ttft_ms`` and ``theta2_ms = f2 * baseline_ttft_ms``.

        Raises
        ------
        InvalidInputError
            A non-positive baseline, or thresholds or fields the constructor refuses.
        """
        b = positive_scalar(baseline_ttft_ms, "baseline_ttft_ms")
        return cls(f1 * b, f2 * b, **kw)

    @property
    def setting(self) -> tuple[float, float]:
        """Current (tau, omega)."""
        return tuple(self.table[self.regime])

    def reset(self) -> None:
        """Forget the EWMA and return to regime 0 (before a new run)."""
        self.ewma_ms, self.regime = None, 0

    def step(self, ttft_p99_ms: float) -> Decision:
        """Feed one poll's TTFT P99 (ms); return the decision for the next interval.

        Parameters
        ----------
        ttft_p99_ms : float
            TTFT P99 of the last poll interval (ms, >= 0).

        Returns
        -------
        Decision
            The EWMA, the regime after the escalation and hysteresis rules, and its (tau, omega).

        Raises
        ------
        InvalidInputError
            A negative or non-finite TTFT.
        """
        x = finite_scalar(ttft_p99_ms, "ttft_p99_ms")
        if x < 0:
            raise InvalidInputError(f"ttft_p99_ms must be >= 0, got {x}")
        self.ewma_ms = x if self.ewma_ms is None else self.alpha * x + (1 - self.alpha) * self.ewma_ms
        e = self.ewma_ms
        thresholds = (self.theta1_ms, self.theta2_ms)
        target = sum(e >= t for t in thresholds)  # the regime without hysteresis
        if target > self.regime:
            self.regime = target
        else:
            while self.regime > 0 and e < (1 - self.hysteresis) * thresholds[self.regime - 1]:
                self.regime -= 1
        tau, omega = self.table[self.regime]
        return Decision(x, e, self.regime, float(tau), float(omega))


def run_trace(controller: AdaptiveController, ttft_p99_ms) -> np.ndarray:
    """Regime after each poll of a TTFT P99 trace (ms); the controller is reset first.

    Parameters
    ----------
    controller : AdaptiveController
        The controller to drive (its state is reset, then advanced through the trace).
    ttft_p99_ms : array_like of float, shape (n,)
        TTFT P99 per poll (ms, >= 0; +inf allowed for an interval with no completion).

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Regime (0, 1 or 2) after each poll.

    Raises
    ------
    InvalidInputError
        A controller of the wrong type, or a trace that is not 1-D or has negative or NaN entries.
    """
    instance(controller, AdaptiveController, "controller")
    trace = nonnegative_array(ttft_p99_ms, "ttft_p99_ms", ndim=1, allow_posinf=True)
    controller.reset()
    return np.array([controller.step(x).regime for x in trace], dtype=int)


# --------------------------------------------------------------------------------------------------
# actuators
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntervalReport:
    """What one poll interval produced, as a Prometheus poll would report it.

    Parameters
    ----------
    ttft_p99_ms : float
        TTFT P99 of the interval (ms).
    throughput_rps : float
        Completed requests per second.
    poa_hat : float or None
        PoA-hat of the interval's requests (None when the interval cannot compute it).
    concurrency : int
        Closed-loop clients during the interval.
    duration_s : float
        Length of the interval (s).
    """

    ttft_p99_ms: float
    throughput_rps: float
    poa_hat: float | None
    concurrency: int
    duration_s: float


class Actuator(Protocol):
    """Serves one poll interval under a router setting and reports what Prometheus would see."""

    def run_interval(self, index: int, tau: float, omega: float) -> IntervalReport:
        """Serve poll interval ``index`` with router temperature ``tau`` and overlap weight ``omega``.

        Parameters
        ----------
        index : int
            Interval number (0-based).
        tau, omega : float
            Router setting for the interval.

        Returns
        -------
        IntervalReport
            What the interval produced.
        """
        ...


@dataclass
class ReplayActuator:
    """Dynamo's real KV router on the replay's virtual clock, one replay segment per poll interval.

    ``ramp`` gives the closed-loop concurrency of each interval. Router settings are global per replay
    call in Dynamo 1.6.1, so each interval is its own replay with the current (tau, omega) and
    ``max(min_requests, 4 C)`` requests, the first C left out of the metrics; each segment starts with cold
    caches, which is the price of switching settings on the replay.

    Parameters
    ----------
    setup : str or Cluster
        A name of :data:`gametheory.serving.engine.PAPER_SETUPS` or a :class:`~gametheory.serving.engine.Cluster`.
    ramp : tuple of int
        Closed-loop concurrency of each interval.
    seed : int, optional
        Base seed; interval k uses ``seed * 1000 + k``.
    min_requests : int, optional
        Fewest requests per replay segment (default 400).
    with_poa : bool, optional
        Compute PoA-hat per interval (default True).
    workload : Workload, optional
        Default :func:`~gametheory.serving.workload.paper_workload`.
    """

    setup: object
    ramp: tuple
    seed: int = 0
    min_requests: int = 400
    with_poa: bool = True
    workload: object = None

    def run_interval(self, index: int, tau: float, omega: float) -> IntervalReport:
        """Replay interval ``index`` at ``ramp[index]`` clients with setting (tau, omega).

        Parameters
        ----------
        index : int
            Interval number, an index into ``ramp``.
        tau, omega : float
            Router temperature and overlap weight for the replay.

        Returns
        -------
        IntervalReport
            TTFT P99 (ms), throughput (requests/s), PoA-hat, concurrency and the segment's virtual duration (s).

        Raises
        ------
        InvalidInputError
            Bad arguments to :func:`gametheory.serving.dynamo.replay_run`.
        ModuleNotFoundError
            ``ai-dynamo`` 1.6.1 is not installed (``make dynamo`` installs it).
        """
        from gametheory.serving.dynamo import replay_run

        c = int(self.ramp[index])
        r = replay_run(self.setup, c, tau, omega, workload=self.workload, n_requests=max(self.min_requests, 4 * c),
                       seed=self.seed * 1000 + index, with_poa=self.with_poa, warmup=c)
        return IntervalReport(r.ttft_p99_ms, r.throughput_rps, r.poa_hat, c, r.duration_ms / 1e3)


def run_controller(controller: AdaptiveController | None, actuator: Actuator, n_intervals: int,
                   static: tuple[float, float] = PAPER_TABLE[0]) -> list[tuple[IntervalReport, Decision | None]]:
    """Closed loop: interval k runs with the setting decided after interval k-1.

    Parameters
    ----------
    controller : AdaptiveController or None
        The controller (reset first); None runs the static setting ``static`` throughout (the paper's
        baseline: Dynamo's defaults).
    actuator : Actuator
        Serves each interval (an object with ``run_interval(k, tau, omega)``).
    n_intervals : int
        Poll intervals to run (>= 0).
    static : (float, float), optional
        (tau, omega) of the static run (default regime 0 of :data:`PAPER_TABLE`).

    Returns
    -------
    list of (IntervalReport, Decision or None)
        Per interval, the report and the controller's decision after it (None for the static run).

    Raises
    ------
    InvalidInputError
        A controller of the wrong type, an actuator without ``run_interval``, a bad ``n_intervals`` or
        ``static``.
    """
    out = []
    if controller is not None:
        instance(controller, AdaptiveController, "controller")
        controller.reset()
    if not callable(getattr(actuator, "run_interval", None)):
        raise InvalidInputError(f"actuator must have run_interval(k, tau, omega) (an Actuator), got {actuator!r}")
    n_intervals = integer(n_intervals, "n_intervals", minimum=0, maximum=10**7)
    tau, omega = pair(static, "static (tau, omega)") if controller is None else controller.setting
    for k in range(n_intervals):
        rep = actuator.run_interval(k, tau, omega)
        dec = None
        if controller is not None:
            dec = controller.step(rep.ttft_p99_ms)
            tau, omega = dec.tau, dec.omega
        out.append((rep, dec))
    return out


# --------------------------------------------------------------------------------------------------
# Prometheus histogram -> TTFT quantile (the live actuator's signal)
# --------------------------------------------------------------------------------------------------
_BUCKET = re.compile(r'^(?P<name>[a-zA-Z_:][\w:]*)_bucket\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)')


def parse_histogram(text: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative bucket counts of histogram ``metric`` in Prometheus text format, summed over label sets.

    Parameters
    ----------
    text : str
        A scrape in Prometheus text exposition format.
    metric : str
        Histogram name without the ``_bucket`` suffix.

    Returns
    -------
    les : numpy.ndarray, shape (k,)
        Bucket upper bounds in the metric's unit, increasing, +inf last.
    counts : numpy.ndarray, shape (k,)
        Cumulative counts per bound, summed over label sets.

    Raises
    ------
    InvalidInputError
        ``text`` or ``metric`` is not a string, or the text holds no bucket of ``metric``.
    """
    if not isinstance(text, str) or not isinstance(metric, str):
        raise InvalidInputError(f"text and metric must be strings, got {type(text).__name__} and "
                                f"{type(metric).__name__}")
    acc: dict[float, float] = {}
    for line in text.splitlines():
        m = _BUCKET.match(line.strip())
        if not m or m.group("name") != metric:
            continue
        le = re.search(r'le="([^"]+)"', m.group("labels"))
        if le is None:
            continue
        bound = math.inf if le.group(1) in ("+Inf", "Inf") else float(le.group(1))
        acc[bound] = acc.get(bound, 0.0) + float(m.group("value"))
    if not acc:
        raise InvalidInputError(f"no buckets of histogram {metric!r} in the scraped text")
    les = np.array(sorted(acc))
    return les, np.array([acc[b] for b in les])


def histogram_quantile(q: float, before: str, after: str, metric: str) -> float:
    """Quantile ``q`` of the observations between two scrapes, as Prometheus' ``histogram_quantile``
    computes it on ``increase(metric_bucket)``: linear interpolation inside the bucket that holds rank q x n.

    Parameters
    ----------
    q : float
        Quantile in (0, 1), e.g. 0.99.
    before : str or None
        Scrape at the start of the window (None: count from zero).
    after : str
        Scrape at the end of the window.
    metric : str
        Histogram name without ``_bucket``.

    Returns
    -------
    float
        The quantile, in the metric's unit (seconds for Dynamo's TTFT histogram); the highest finite bound
        when the rank falls in the +Inf bucket.

    Raises
    ------
    InvalidInputError
        ``q`` outside (0, 1), scrapes that are not strings or hold no buckets of ``metric``, bucket bounds that
        changed between scrapes, or no observation between them (never a NaN).
    """
    q = finite_scalar(q, "quantile q")
    if not 0 < q < 1:
        raise InvalidInputError(f"quantile must be in (0, 1), got {q}")
    if before is not None and not isinstance(before, str):
        raise InvalidInputError(f"before must be the scraped text (a string) or None, got {type(before).__name__}")
    les1, c1 = parse_histogram(after, metric)
    les0, c0 = parse_histogram(before, metric) if before else (les1, np.zeros_like(c1))
    if les0.shape != les1.shape or not np.array_equal(les0, les1):
        raise InvalidInputError(f"histogram {metric!r}: bucket bounds changed between scrapes")
    d = c1 - c0
    n = d[-1]
    if n <= 0:
        raise InvalidInputError(f"histogram {metric!r}: no observations between the two scrapes")
    rank = q * n
    i = int(np.searchsorted(d, rank, side="left"))
    if math.isinf(les1[i]):
        return float(les1[i - 1]) if i > 0 else 0.0
    lo = 0.0 if i == 0 else float(les1[i - 1])
    below = 0.0 if i == 0 else float(d[i - 1])
    inside = float(d[i]) - below
    return lo + (float(les1[i]) - lo) * ((rank - below) / inside if inside > 0 else 1.0)


# --------------------------------------------------------------------------------------------------
# experiment 3: static defaults vs adaptive under a ramp past the knee
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RampOutcome:
    """One trial of one arm of :func:`static_vs_adaptive`: saturated-phase means and the regimes.

    Parameters
    ----------
    arm : str
        ``"static"`` or ``"adaptive"``.
    trial : int
        Trial number.
    poa_hat : float or None
        PoA-hat of the saturated phase (None when an interval could not compute it).
    ttft_p99_ms : float
        Mean TTFT P99 over the saturated intervals (ms).
    throughput_rps : float
        Mean throughput over the saturated intervals (requests/s).
    regimes : tuple of int
        Regime of each interval (static arm: all 0).
    reports : tuple of IntervalReport, optional
        The interval reports.
    """

    arm: str
    trial: int
    poa_hat: float | None
    ttft_p99_ms: float
    throughput_rps: float
    regimes: tuple
    reports: tuple = field(repr=False, compare=False, default=())


def static_vs_adaptive(make_actuator, make_controller, n_intervals: int, saturated, trials: int = 3) -> list:
    """Paper experiment 3: for each trial run the static defaults and the adaptive controller on the same
    ramp; report means over the saturated intervals (indices in ``saturated``).

    ``make_actuator(trial)`` returns a fresh :class:`Actuator`; ``make_controller()`` a fresh controller. PoA-hat
    of the saturated phase: from the actuator's ``poa_hat_between(first, last)`` when it has one (the
    simulator: the requests that arrived in those intervals, after they finish) and the saturated intervals
    are consecutive; otherwise the mean of the interval reports' PoA-hat.

    Parameters
    ----------
    make_actuator : callable
        ``make_actuator(trial) -> Actuator``, a fresh actuator per arm and trial.
    make_controller : callable
        ``make_controller() -> AdaptiveController``.
    n_intervals : int
        Intervals per run (>= 1).
    saturated : sequence of int
        Indices of the saturated intervals (in ``range(n_intervals)``, at least one).
    trials : int, optional
        Trials per arm (default 3, as in the paper).

    Returns
    -------
    list of RampOutcome
        Static then adaptive, for each trial.

    Raises
    ------
    InvalidInputError
        Non-callable factories, an empty or out-of-range ``saturated``, or bad counts.
    """
    function(make_actuator, "make_actuator")
    function(make_controller, "make_controller")
    if isinstance(saturated, (str, bytes, dict)) or not hasattr(saturated, "__iter__"):
        raise InvalidInputError(f"saturated must be a sequence of interval indices, got {saturated!r}")
    saturated = list(saturated)
    sat = integer_array(saturated, "saturated", ndim=1) if saturated else np.zeros(0, int)
    if sat.size == 0:
        raise InvalidInputError("saturated must name at least one interval")
    n = integer(n_intervals, "n_intervals", minimum=1, maximum=10**7)
    trials = integer(trials, "trials", minimum=1, maximum=10**6)
    bad = sat[(sat < 0) | (sat >= n)]
    if bad.size:
        raise InvalidInputError(f"saturated: interval index {int(bad[0])} is outside 0..{n - 1} "
                                f"(n_intervals = {n})")
    out = []
    for trial in progress(range(int(trials)), "experiment 3 trials (static, adaptive)", leave=False):
        for arm, ctl in (("static", None), ("adaptive", make_controller())):
            actuator = make_actuator(trial)
            res = run_controller(ctl, actuator, n)
            reps = [r for r, _ in res]
            regimes = tuple(0 if d is None else d.regime for _, d in res)
            if hasattr(actuator, "poa_hat_between") and np.array_equal(sat, np.arange(sat.min(), sat.max() + 1)):
                poa = float(actuator.poa_hat_between(int(sat.min()), int(sat.max())))
            else:
                poas = [reps[i].poa_hat for i in sat]
                poa = None if any(p is None for p in poas) else float(np.mean(poas))
            out.append(RampOutcome(arm, trial, poa,
                                   float(np.mean([reps[i].ttft_p99_ms for i in sat])),
                                   float(np.mean([reps[i].throughput_rps for i in sat])),
                                   regimes, tuple(reps)))
    return out
