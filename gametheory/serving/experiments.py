"""The paper's serving experiments on our engine model: load curves and the knee (experiments 1 and 2), the
(tau, omega) sweep (experiment 4), static vs adaptive routing (experiment 3), and the knee map.

Every function takes a setup (a name of :data:`gametheory.serving.engine.PAPER_SETUPS` or a
:class:`~gametheory.serving.engine.Cluster`), an :class:`~gametheory.serving.engine.EngineConfig` and a
:class:`~gametheory.serving.workload.Workload`, and runs the one simulator
(:mod:`gametheory.serving.simulator`) or the analytic model (:mod:`gametheory.serving.queueing`). The reproduce
sections (:mod:`gametheory.reproduce.regimes`, :mod:`gametheory.reproduce.experiment3`) only run and render them.

- :func:`load_curve`: steady-state TTFT P99, ITL P50, throughput, mean latency and PoA-hat (paper form, on
  end-to-end latencies and on TTFT) against closed-loop concurrency C; the simulated knee is the hinge break
  of mean latency against C (:func:`gametheory.regimes.find_knee`; past the knee the mean latency grows as
  C / X_max), next to the analytic knee (:func:`gametheory.serving.queueing.analytic_knee`).
- :func:`config_spread`: PoA-hat across router configurations at one C below and one above the knee: its
  coefficient of variation and the ratio of the variances (the paper: CV < 0.5 % below, 37-58x the variance
  at saturation).
- :func:`adaptive_vs_static`: the paper's controller against Dynamo's defaults on a ramp past the knee, and the
  same ramp on another P/D split of the same GPUs with the defaults (Game 1's attribution, paper section 8.1).
- :func:`knee_map`: the analytic knee over (prefill batch, output length).

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, sections 6-8.
.. [2] P. J. Denning and J. P. Buzen, "The operational analysis of queueing network models", ACM Computing
   Surveys 10(3), 1978.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gametheory import paper_setup
from gametheory._progress import progress
from gametheory._validate import instance, integer, number_list, pair, positive_scalar, size_limit
from gametheory.errors import InvalidInputError
from gametheory.serving.engine import Cluster, EngineConfig, paper_cluster
from gametheory.serving.workload import Workload

__all__ = [
    "GRID",
    "FULL_GRID",
    "PAPER_GRID",
    "AdaptiveOutcome",
    "ConfigSpread",
    "LoadCurve",
    "adaptive_vs_static",
    "config_spread",
    "knee_map",
    "load_curve",
]

#: concurrencies of the load curves: below, at and well past the knee (deep saturation at >= 8x a knee near 130)
GRID = (8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 256, 384, 512, 768, 1024, 1280)
#: grid points the paper's statement "C = 128 is the first grid point past the knee" refers to (it names 64, 96
#: and 128 and "deeper points"; the rest are ours)
PAPER_GRID = (32, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
FULL_GRID = (8, 16, 24, 32, 48, 64, 80, 96, 104, 112, 120, 128, 144, 160, 192, 224, 256, 320, 384, 512, 640, 768,
             1024, 1280, 1536)


def _cluster(setup, engine: EngineConfig | None) -> Cluster:
    if engine is not None:
        instance(engine, EngineConfig, "engine")
    if isinstance(setup, Cluster):
        return setup if engine is None else replace(setup, engine=engine)
    return paper_cluster(setup, engine)


@dataclass(frozen=True)
class LoadCurve:
    """Steady-state metrics against closed-loop concurrency, the knee and the regimes of one setup.

    Parameters
    ----------
    setup : str
    concurrency : ndarray
    ttft_p99_ms, itl_p50_ms, mean_latency_ms : ndarray
        Milliseconds.
    throughput_rps : ndarray
        Requests/s.
    poa_hat, poa_hat_ttft : ndarray
        PoA-hat in the paper's form on end-to-end latencies and on TTFT.
    poa_hat_e2e_over_ttft_model : ndarray
        Realized end-to-end latencies against the optimum of the frozen TTFT model: a diagnostic of what a cost
        model without the decode phase would show (docs/regimes.md), not the paper's form.
    knee : KneeResult or None
        Hinge break of mean latency against C, with its bootstrap interval (None: no knee in the grid).
    knee_analytic : float
        C* of :func:`gametheory.serving.queueing.analytic_knee`.
    regimes : list of str
        ``"below"``, ``"transition"`` or ``"saturated"`` per C (:func:`gametheory.regimes.classify`).
    """

    setup: str
    concurrency: np.ndarray
    ttft_p99_ms: np.ndarray
    itl_p50_ms: np.ndarray
    throughput_rps: np.ndarray
    mean_latency_ms: np.ndarray
    poa_hat: np.ndarray
    poa_hat_ttft: np.ndarray
    poa_hat_e2e_over_ttft_model: np.ndarray
    knee: object
    knee_analytic: float
    regimes: list = field(default_factory=list)

    @property
    def knee_c(self) -> float | None:
        """The simulated knee (clients), or None."""
        return None if self.knee is None else float(self.knee.load)

    @property
    def first_past_knee(self) -> int | None:
        """The first point of :data:`PAPER_GRID` above the simulated knee (the paper's way of stating its
        knee: "C = 128 is the first grid point past it"), or None."""
        if self.knee is None:
            return None
        past = [c for c in PAPER_GRID if c > self.knee.load]
        return int(past[0]) if past else None


def _measured(c: int) -> int:
    return max(1500, 4 * c)


def load_curve(setup, concurrencies=GRID, *, engine: EngineConfig | None = None, workload: Workload | None = None,
               tau: float = 0.0, omega: float = 1.0, seed: int = 0, measured=_measured, n_boot: int = 50,
               executor=None, progress: bool | None = None) -> LoadCurve:
    """Simulate the load curve of one setup (module docstring).

    Parameters
    ----------
    setup : str or Cluster
    concurrencies : iterable of int
        At least 4 distinct values.
    engine : EngineConfig, optional
        Engine of a named setup (default vLLM's); replaces a Cluster's when given.
    workload : Workload, optional
    tau, omega : float
        Router setting (Dynamo's defaults 0 and 1).
    seed : int
    measured : callable
        C -> measured requests per point (after a warm-up of 2 C); default ``max(1500, 4 C)``.
    n_boot : int
        Bootstrap replicates of the knee interval.
    executor, progress
        As :func:`gametheory.serving.sweeps.sweep`.

    Returns
    -------
    LoadCurve

    Raises
    ------
    InvalidInputError
        Fewer than 4 distinct concurrencies, or as the simulator.

    References
    ----------
    Denning and Buzen (1978) for the knee's meaning; :func:`gametheory.regimes.find_knee` for the hinge.
    """
    from gametheory.regimes import classify, find_knee
    from gametheory.serving.queueing import analytic_knee
    from gametheory.serving.sweeps import sweep

    cs = sorted(set(number_list(concurrencies, "concurrencies", integers=True)))
    if len(cs) < 4:
        raise InvalidInputError(f"concurrencies needs at least 4 distinct values, got {cs}")
    cluster = _cluster(setup, engine)
    pts = sweep(cluster, cs, [(tau, omega)], workload=workload, n_requests=measured, seed=seed, executor=executor,
                progress=progress)
    x = np.array(cs, float)
    lat = np.array([p.mean_latency_ms for p in pts])
    try:
        knee = find_knee(x, lat, n_boot=n_boot)
        regimes = classify(x, knee=knee)
    except InvalidInputError:
        knee, regimes = None, ["n/a"] * len(cs)
    return LoadCurve(cluster.name, np.array(cs), np.array([p.ttft_p99_ms for p in pts]),
                     np.array([p.itl_p50_ms for p in pts]), np.array([p.throughput_rps for p in pts]), lat,
                     np.array([p.poa_hat for p in pts]), np.array([p.poa_hat_ttft for p in pts]),
                     np.array([p.poa_hat_e2e_over_ttft_model for p in pts]), knee,
                     analytic_knee(cluster, workload), list(regimes))


@dataclass(frozen=True)
class ConfigSpread:
    """PoA-hat across router configurations at one C below and one above the knee.

    Parameters
    ----------
    configs : list of (tau, omega)
    below_c, above_c : int
    below, above : ndarray
        PoA-hat per configuration (paper form).
    """

    configs: list
    below_c: int
    above_c: int
    below: np.ndarray
    above: np.ndarray

    @property
    def cv_below(self) -> float:
        """Coefficient of variation of PoA-hat across configurations below the knee."""
        return float(self.below.std() / self.below.mean())

    @property
    def cv_above(self) -> float:
        """Coefficient of variation of PoA-hat across configurations above the knee."""
        return float(self.above.std() / self.above.mean())

    @property
    def variance_ratio(self) -> float:
        """Variance across configurations above the knee / below it (inf when below is 0)."""
        vb = float(self.below.var())
        return float(self.above.var()) / vb if vb > 0 else math.inf


def config_spread(setup, below_c: int, above_c: int, configs=None, *, engine: EngineConfig | None = None,
                  workload: Workload | None = None, seed: int = 0, measured=_measured, executor=None,
                  progress: bool | None = None) -> ConfigSpread:
    """PoA-hat of every router configuration at ``below_c`` and ``above_c`` (paper experiment 4).

    Parameters
    ----------
    setup : str or Cluster
    below_c, above_c : int
        Concurrencies below and above the knee.
    configs : list of (tau, omega), optional
        Default the 16 of :func:`gametheory.serving.sweeps.tau_omega_grid`.
    engine, workload, seed, measured, executor, progress
        As :func:`load_curve`.

    Returns
    -------
    ConfigSpread

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    from gametheory.serving.sweeps import sweep, tau_omega_grid

    configs = tau_omega_grid() if configs is None else configs
    if isinstance(configs, (str, bytes, dict)) or not hasattr(configs, "__iter__"):
        raise InvalidInputError(f"configs must be a sequence of (tau, omega) pairs, got {configs!r}")
    configs = [pair(cfg, "configs entry (tau, omega)") for cfg in configs] or tau_omega_grid()
    below_c = integer(below_c, "below_c", minimum=1)
    above_c = integer(above_c, "above_c", minimum=1)
    cluster = _cluster(setup, engine)
    pts = sweep(cluster, [below_c, above_c], configs, workload=workload, n_requests=measured, seed=seed,
                executor=executor, progress=progress)
    k = len(configs)
    return ConfigSpread(configs, int(below_c), int(above_c), np.array([p.poa_hat for p in pts[:k]]),
                        np.array([p.poa_hat for p in pts[k:]]))


@dataclass(frozen=True)
class AdaptiveOutcome:
    """Experiment 3 on one setup: saturated-phase means per arm over the trials.

    Parameters
    ----------
    setup : str
    ramp : tuple of int
        Concurrency per 5 s interval.
    saturated : tuple of int
        Intervals of the saturated phase.
    thresholds_ms : tuple of float
        The controller's theta1, theta2.
    static, adaptive : dict
        Means over trials: ``poa_hat``, ``ttft_p99_ms``, ``throughput_rps``; and per-trial lists.
    split : dict or None
        The same ramp with Dynamo's defaults on another P/D split of the same GPUs (``layout``, means).
    regimes : tuple
        The adaptive arm's regime per interval (first trial).
    """

    setup: str
    ramp: tuple
    saturated: tuple
    thresholds_ms: tuple
    static: dict
    adaptive: dict
    split: dict | None
    regimes: tuple

    @property
    def throughput_change(self) -> float:
        """Adaptive / static throughput - 1 in the saturated phase."""
        return self.adaptive["throughput_rps"] / self.static["throughput_rps"] - 1.0


def _summarize_arm(outcomes) -> dict:
    return {"poa_hat": float(np.mean([o.poa_hat for o in outcomes])),
            "ttft_p99_ms": float(np.mean([o.ttft_p99_ms for o in outcomes])),
            "throughput_rps": float(np.mean([o.throughput_rps for o in outcomes])),
            "poa_hat_trials": [float(o.poa_hat) for o in outcomes],
            "ttft_p99_trials_ms": [float(o.ttft_p99_ms) for o in outcomes],
            "throughput_trials_rps": [float(o.throughput_rps) for o in outcomes]}


def adaptive_vs_static(setup, *, engine: EngineConfig | None = None, workload: Workload | None = None,
                       trials: int = 3, knee: float | None = None, below: float = 0.5, above: float = 4.0,
                       n_below: int = 3, n_ramp: int = 3, n_saturated: int = 8, split: tuple[int, int] | None = None,
                       thresholds: tuple[float, float] | None = None, interval_s: float = 5.0) -> AdaptiveOutcome:
    """Paper experiment 3 on the simulator: static Dynamo defaults vs the adaptive controller on a ramp.

    The ramp (5 s intervals): ``n_below`` intervals at ``below`` x the knee, ``n_ramp`` intervals stepping up to
    ``above`` x the knee, then ``n_saturated`` intervals there (the saturated phase). The controller's thresholds
    default to the paper's 340B values (theta1 = 1 s, theta2 = 10 s) scaled by the ratio of this setup's unloaded
    TTFT to the 340B setup's (the paper advises fractions of the model's baseline TTFT). PoA-hat of the saturated
    phase: the paper form over the requests that arrived in it (:meth:`SimulatorActuator.poa_hat_between`).

    Parameters
    ----------
    setup : str or Cluster
    engine, workload
        As :func:`load_curve`.
    trials : int
        Independent seeds (>= 1).
    knee : float, optional
        Default the analytic knee (finite, > 0).
    below, above : float
        Multiples of the knee below and in the saturated phase (finite, 0 < below < above).
    n_below, n_ramp : int
        Intervals at ``below`` x the knee and stepping up (>= 0).
    n_saturated : int
        Intervals of the saturated phase (>= 1).
    split : (int, int), optional
        Another nP/mD layout of the same GPUs to run with the defaults (Game 1's attribution); None = skip.
    thresholds : (float, float), optional
        theta1, theta2 in ms.
    interval_s : float

    Returns
    -------
    AdaptiveOutcome

    Raises
    ------
    InvalidInputError
        trials below 1, a knee or multiples that are not finite and positive, below >= above, negative interval
        counts, a split with another GPU count, or as the actuator.

    References
    ----------
    Paper section 6 (controller), section 8 (experiment 3), section 8.1 (the Game 1 attribution).
    """
    from gametheory.serving.controller import AdaptiveController, run_controller, static_vs_adaptive
    from gametheory.serving.queueing import analytic_knee
    from gametheory.serving.sim_actuator import SimulatorActuator

    trials = integer(trials, "trials", minimum=1, maximum=10_000)
    below, above = positive_scalar(below, "below"), positive_scalar(above, "above")
    if below >= above:
        raise InvalidInputError(f"below ({below:g}) must be smaller than above ({above:g}): multiples of the knee")
    n_below, n_ramp = integer(n_below, "n_below", minimum=0), integer(n_ramp, "n_ramp", minimum=0)
    n_saturated = integer(n_saturated, "n_saturated", minimum=1)
    cluster = _cluster(setup, engine)
    k = analytic_knee(cluster, workload) if knee is None else positive_scalar(knee, "knee")
    lo, hi = max(1, int(round(below * k))), max(2, int(round(above * k)))
    steps = [int(round(lo + (hi - lo) * (i + 1) / (n_ramp + 1))) for i in range(n_ramp)]
    ramp = tuple([lo] * n_below + steps + [hi] * n_saturated)
    saturated = tuple(range(len(ramp) - n_saturated, len(ramp)))
    if thresholds is None:
        base_340 = _unloaded_ttft_ms(paper_cluster("340b_1p2d", cluster.engine), workload)
        scale = _unloaded_ttft_ms(cluster, workload) / base_340
        thresholds = tuple(1000.0 * v * scale for v in paper_setup.THETA_340B_S)
    t1, t2 = (float(v) for v in thresholds)

    def make_actuator(c):
        return lambda trial: SimulatorActuator(c, ramp, seed=trial, interval_s=interval_s, workload=workload)

    res = static_vs_adaptive(make_actuator(cluster), lambda: AdaptiveController(t1, t2), len(ramp), saturated,
                             trials=int(trials))
    static = [o for o in res if o.arm == "static"]
    adaptive = [o for o in res if o.arm == "adaptive"]
    split_out = None
    if split is not None:
        n_p, n_d = (int(v) for v in split)
        if n_p + n_d != cluster.n_prefill + cluster.n_decode:
            raise InvalidInputError(f"split {split} has {n_p + n_d} workers; {cluster.name} has "
                                    f"{cluster.n_prefill + cluster.n_decode}")
        other = cluster.with_layout(n_p, n_d)
        outs = []
        for trial in progress(range(int(trials)), f"experiment 3 trials ({n_p}P/{n_d}D)", leave=False):
            act = make_actuator(other)(trial)
            reps = [r for r, _ in run_controller(None, act, len(ramp))]
            outs.append(_PhaseMeans(act.poa_hat_between(saturated[0], saturated[-1]),
                                    float(np.mean([reps[i].ttft_p99_ms for i in saturated])),
                                    float(np.mean([reps[i].throughput_rps for i in saturated]))))
        split_out = {"layout": f"{n_p}P/{n_d}D", **_summarize_arm(outs)}
    return AdaptiveOutcome(cluster.name, ramp, saturated, (t1, t2), _summarize_arm(static), _summarize_arm(adaptive),
                           split_out, adaptive[0].regimes)


@dataclass(frozen=True)
class _PhaseMeans:
    poa_hat: float
    ttft_p99_ms: float
    throughput_rps: float


def _unloaded_ttft_ms(cluster: Cluster, workload: Workload | None) -> float:
    """TTFT of a request alone: one prefill pass of its uncached tokens, the KV transfer, one decode step."""
    from gametheory.serving.workload import paper_workload

    wl = workload or paper_workload()
    u = cluster.engine.uncached_tokens(wl.mean_input, wl.prefix_tokens)
    return cluster.prefill_ms(u) + float(cluster.transfer_ms(wl.mean_input)) + float(
        cluster.step_table(wl.mean_context)[1])


def knee_map(setup, batches, outputs, *, engine: EngineConfig | None = None, workload: Workload | None = None
             ) -> np.ndarray:
    """Analytic knee (clients) over prefill batch (rows) x output length (columns).

    Parameters
    ----------
    setup : str or Cluster
    batches : iterable of int
        ``EngineConfig.max_prefill_seqs`` values.
    outputs : iterable of int
        Output tokens per request.
    engine : EngineConfig, optional
        Every other engine setting (default vLLM's).
    workload : Workload, optional
        Other workload fields (its output length is replaced).

    Returns
    -------
    ndarray, shape (len(batches), len(outputs))
    """
    from gametheory.serving.queueing import analytic_knee
    from gametheory.serving.workload import paper_workload

    batches = number_list(batches, "batches", integers=True)
    outputs = number_list(outputs, "outputs", integers=True)
    size_limit(len(batches) * len(outputs), "knee_map grid", limit=100_000, what="points")
    cluster = _cluster(setup, engine)
    wl = paper_workload() if workload is None else instance(workload, Workload, "workload")
    out = np.empty((len(batches), len(outputs)))
    for i, b in enumerate(progress(batches, "knee map", leave=False)):
        c = replace(cluster, engine=replace(cluster.engine, max_prefill_seqs=int(b)))
        for j, o in enumerate(outputs):
            out[i, j] = analytic_knee(c, replace(wl, output_tokens=(int(o), int(o))))
    return out
