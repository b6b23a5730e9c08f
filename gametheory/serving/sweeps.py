"""Parameter sweeps of the simulator over concurrency C and the paper's 16 (tau, omega) router configs.

Each point is an independent :func:`gametheory.serving.simulator.simulate` call submitted to any
:class:`concurrent.futures.Executor` (default: a local ProcessPoolExecutor; dask.distributed's Client
works too). Points return (summary metrics, PoA-hat value) only, not whole logs. PoA-hat is computed on the
same requests as the metrics (after the warm-up), from the log's window-frozen costs
(:func:`gametheory.serving.estimator.poa_hat_log`).
"""

from __future__ import annotations

from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from gametheory._progress import enabled as bar_enabled
from gametheory._progress import progress as bar

TAUS = (0.0, 0.1, 0.5, 1.0)
OMEGAS = (0.5, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class SweepPoint:
    concurrency: int
    tau: float
    omega: float
    ttft_p99_ms: float
    throughput_rps: float
    throughput_tok_s: float
    poa_hat: float


def run_point(profile_name: str, n_decode: int, concurrency: int, tau: float, omega: float, n_requests: int,
              seed: int, kwargs: dict | None = None) -> SweepPoint:
    """One simulation (module-level so it pickles to worker processes)."""
    from gametheory.serving.estimator import aligned_window_rows, matching_ratio
    from gametheory.serving.profiles import load_profile
    from gametheory.serving.simulator import simulate

    kw = dict(kwargs or {})
    warm = kw.pop("warmup", None)  # requests discarded at the start, from the metrics and PoA-hat alike
    cut = min(n_requests // 10, 2 * concurrency) if warm is None else int(warm)
    r = simulate(load_profile(profile_name), n_decode, concurrency, n_requests, tau=tau, omega=omega, seed=seed,
                 warmup=cut, **kw)
    body = r.log[cut:]
    body = body[aligned_window_rows(body, n_decode)]
    return SweepPoint(concurrency, tau, omega, r.ttft_p99_ms, r.throughput_rps, r.throughput_tok_s,
                      matching_ratio(body["window_costs"], body["worker"]).value)


def sweep(profile_name: str, n_decode: int, concurrencies, configs=None, *, n_requests: int = 5000,
          seed: int = 0, executor: Executor | None = None, progress: bool | None = None,
          **kwargs) -> list[SweepPoint]:
    """Run every (C, tau, omega) point; ``configs`` defaults to [(0, 1)] (Dynamo defaults). ``kwargs`` go to
    :func:`~gametheory.serving.simulator.simulate`; ``warmup=k`` discards the first k requests from the
    metrics and PoA-hat (default min(n / 10, 2 C); use 2 C or more for steady state at large C).
    Use ``configs=tau_omega_grid()`` for the paper's 16 configs. Results come back in submission order.
    ``progress``: a progress bar on stderr; by default when stderr is a terminal (:mod:`gametheory._progress`)."""
    configs = list(configs or [(0.0, 1.0)])
    jobs = [(profile_name, n_decode, int(c), float(t), float(o), n_requests, seed, kwargs)
            for c in concurrencies for (t, o) in configs]
    own = executor is None
    ex = executor or ProcessPoolExecutor(max_workers=2)
    try:
        futs = [ex.submit(run_point, *j) for j in jobs]
        if progress is None:
            progress = bar_enabled()
        done = bar(futs, f"sweep of {len(futs)} points", force=True) if progress else futs
        return [f.result() for f in done]
    finally:
        if own:
            ex.shutdown()


def tau_omega_grid() -> list[tuple[float, float]]:
    """The 4 x 4 (tau, omega) grid (our choice of values; the paper does not list its 16 configs)."""
    return [(t, o) for t in TAUS for o in OMEGAS]


def cv(values) -> float:
    """Coefficient of variation std / mean (population std)."""
    v = np.asarray(values, float)
    return float(v.std() / v.mean())
