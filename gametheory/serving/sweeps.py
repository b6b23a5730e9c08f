"""Parameter sweeps of the simulator over concurrency C and the paper's 16 (tau, omega) router configurations.

Each point is an independent :func:`gametheory.serving.simulator.simulate` call submitted to any
:class:`concurrent.futures.Executor` (default: a local ProcessPoolExecutor; dask.distributed's
``Client.get_executor()`` works too). A point travels as plain data (setup name, engine configuration,
workload) and returns its summary only (:class:`SweepPoint`), not a log. Every point discards its first
``warmup`` requests (default 2 C: all C clients send at t = 0) from the metrics and PoA-hat alike; PoA-hat is
the paper's form (:func:`gametheory.serving.estimator.poa_hat_log`) on end-to-end latencies and on TTFT, and,
as a diagnostic of the paper's level (docs/regimes.md), realized end-to-end latencies against the optimum of
the frozen TTFT model (a cost model that leaves the decode phase out).

The 16 configurations (:func:`tau_omega_grid`): router temperature tau in {0, 0.3, 0.7, 0.8} x overlap weight
omega in {0.1, 0.5, 1, 2}. The paper does not list its grid; this one brackets its Table 2 entries (0, 1),
(0.7, 1.0) and (0.8, 0.1).

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026 (section 8: 16
   (tau, omega) configurations per Pareto sweep).
"""

from __future__ import annotations

from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

from gametheory._progress import enabled as bar_enabled
from gametheory._progress import progress as bar
from gametheory._validate import choice, finite_array, flag, instance, integer, nonnegative_scalar, number_list, pair
from gametheory.display import Table
from gametheory.errors import InvalidInputError

__all__ = ["OMEGAS", "TAUS", "SweepPoint", "cv", "run_point", "sweep", "tau_omega_grid"]

TAUS = (0.0, 0.3, 0.7, 0.8)
OMEGAS = (0.1, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class SweepPoint:
    """One simulated point: C, tau, omega and the steady-state metrics.

    Parameters
    ----------
    concurrency : int
    tau, omega : float
    ttft_p99_ms, itl_p50_ms, mean_latency_ms : float
        Milliseconds.
    throughput_rps : float
        Requests/s.
    poa_hat, poa_hat_ttft : float
        PoA-hat in the paper's form on end-to-end latencies, and on TTFT.
    poa_hat_e2e_over_ttft_model : float
        Realized end-to-end latencies against the Hungarian optimum of the frozen TTFT model (a diagnostic, not
        the paper's form: docs/regimes.md).
    """

    concurrency: int
    tau: float
    omega: float
    ttft_p99_ms: float
    itl_p50_ms: float
    throughput_rps: float
    mean_latency_ms: float
    poa_hat: float
    poa_hat_ttft: float
    poa_hat_e2e_over_ttft_model: float


def run_point(setup, concurrency: int, tau: float, omega: float, n_requests: int, seed: int, engine=None,
              workload=None, warmup: int | None = None) -> SweepPoint:
    """One simulation (module-level so it pickles to worker processes).

    Parameters
    ----------
    setup : str or Cluster
        A name of :data:`gametheory.serving.engine.PAPER_SETUPS`, or a Cluster (``engine`` then ignored).
    concurrency : int
    tau, omega : float
    n_requests : int
        Measured requests; the warm-up is added on top.
    seed : int
    engine : EngineConfig, optional
        Default vLLM's (:data:`gametheory.serving.engine.VLLM_DEFAULTS`).
    workload : Workload, optional
    warmup : int, optional
        Default 2 C.

    Returns
    -------
    SweepPoint
    """
    from gametheory.serving.engine import Cluster, paper_cluster
    from gametheory.serving.estimator import aligned_window_rows, poa_hat
    from gametheory.serving.simulator import simulate

    cluster = setup if isinstance(setup, Cluster) else paper_cluster(setup, engine)
    concurrency = integer(concurrency, "concurrency", minimum=1, maximum=100_000)
    n_requests = integer(n_requests, "n_requests", minimum=1, maximum=100_000_000)
    tau, omega = nonnegative_scalar(tau, "tau"), nonnegative_scalar(omega, "omega")
    warm = 2 * concurrency if warmup is None else integer(warmup, "warmup", minimum=0)
    r = simulate(cluster, workload, concurrency, warm + n_requests, warmup=warm, tau=tau, omega=omega,
                 seed=seed)
    log = r.log[r.warmup:]
    log = log[aligned_window_rows(log)]
    return SweepPoint(int(concurrency), float(tau), float(omega), r.ttft_p99_ms, r.itl_p50_ms, r.throughput_rps,
                      r.mean_latency_ms, float(r.poa_hat().value), float(r.poa_hat(metric="ttft").value),
                      float(poa_hat(log["model_ttft_ms"], log["latency_ms"]).value))


def sweep(setup, concurrencies, configs=None, *, engine=None, workload=None, n_requests=3000, seed: int = 0,
          warmup: int | None = None, executor: Executor | None = None, progress: bool | None = None
          ) -> Table:
    """Run every (C, tau, omega) point; results in submission order (C outer, configs inner).

    Parameters
    ----------
    setup : str or Cluster
    concurrencies : iterable of int
    configs : list of (tau, omega), optional
        Default ``[(0, 1)]`` (Dynamo's defaults); :func:`tau_omega_grid` gives the 16.
    engine, workload, seed, warmup
        As :func:`run_point`.
    n_requests : int or callable
        Measured requests per point, or a function of C giving them.
    executor : concurrent.futures.Executor, optional
        Default: a local ProcessPoolExecutor with 2 workers (shut down at the end).
    progress : bool, optional
        Progress bar on stderr; by default when stderr is a terminal (:mod:`gametheory._progress`).

    Returns
    -------
    Table
        The :class:`SweepPoint` rows in submission order: a list that also prints as a table and converts to a
        DataFrame (``.to_frame()``, :class:`gametheory.display.Table`).

    Raises
    ------
    InvalidInputError
        No concurrency or no configuration.
    """
    from gametheory.serving.engine import PAPER_SETUPS, Cluster, EngineConfig
    from gametheory.serving.workload import Workload

    if configs is None or isinstance(configs, (list, tuple)) and not configs:
        configs = [(0.0, 1.0)]
    if isinstance(configs, (str, bytes, dict)) or not hasattr(configs, "__iter__"):
        raise InvalidInputError(f"configs must be a sequence of (tau, omega) pairs, got {configs!r}")
    configs = [pair(cfg, "configs entry (tau, omega)") for cfg in configs]
    cs = number_list(concurrencies, "concurrencies", integers=True)
    if not isinstance(setup, Cluster):
        choice(setup, "setup", tuple(sorted(PAPER_SETUPS)))
    if engine is not None:
        instance(engine, EngineConfig, "engine")
    if workload is not None:
        instance(workload, Workload, "workload")
    seed = integer(seed, "seed", minimum=0)
    if warmup is not None:
        integer(warmup, "warmup", minimum=0)
    if executor is not None:
        instance(executor, Executor, "executor", what="concurrent.futures.Executor")
    if progress is not None:
        flag(progress, "progress")
    count = n_requests if callable(n_requests) else (lambda c: n_requests)
    jobs = [(setup, c, t, o, integer(count(c), f"n_requests at C = {c}", minimum=1, maximum=100_000_000), seed,
             engine, workload, warmup) for c in cs for (t, o) in configs]
    own = executor is None
    ex = executor or ProcessPoolExecutor(max_workers=2)
    try:
        futs = [ex.submit(run_point, *j) for j in jobs]
        if progress is None:
            progress = bar_enabled()
        done = bar(futs, f"sweep of {len(futs)} points", force=True) if progress else futs
        return Table([f.result() for f in done], title=f"sweep of {len(jobs)} points")
    finally:
        if own:
            ex.shutdown()


def tau_omega_grid() -> list[tuple[float, float]]:
    """The 4 x 4 (tau, omega) grid of the module docstring.

    Returns
    -------
    list of (float, float)
        16 configurations, tau outer.
    """
    return [(t, o) for t in TAUS for o in OMEGAS]


def cv(values) -> float:
    """Coefficient of variation.

    Parameters
    ----------
    values : array_like

    Returns
    -------
    float
        std / mean (population std).

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    v = finite_array(values, "values", min_size=1)
    if v.mean() == 0:
        raise InvalidInputError("values have mean 0: their coefficient of variation is undefined")
    return float(v.std() / v.mean())
