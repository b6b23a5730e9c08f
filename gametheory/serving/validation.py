"""Validation of our cluster model: simulator against NVIDIA Dynamo's real router, and against the analytic model.

:func:`sim_vs_replay` runs, for each closed-loop concurrency C, the Dynamo 1.6.1 replay
(:func:`gametheory.serving.dynamo.replay_run`: real KV router, Rust mocker workers, virtual clock) and our
discrete-event simulator (:func:`gametheory.serving.simulator.simulate`) on the same
:class:`~gametheory.serving.engine.Cluster` (profile, layout, KV link, engine configuration: the replay's
engine arguments are derived from it) and the same :class:`~gametheory.serving.workload.Workload`, with the
same request count, warm-up (the first 2 C requests) and metrics: TTFT P50/P99, mean ITL, mean end-to-end
latency (ms), throughput (completions between the first measured arrival and the last arrival, requests/s) and
PoA-hat in the paper's form (:func:`gametheory.serving.estimator.poa_hat_log` of both logs, built the same
way). Both sides are repeated (``repeats`` seeds; Dynamo breaks routing ties at random) and averaged; the
relative error of a metric is (simulator - replay) / replay. Needs ai-dynamo 1.6.1 (``make dynamo``).

:func:`sim_vs_model` compares the simulator with the approximate MVA of :mod:`gametheory.serving.queueing`.

References
----------
.. [1] NVIDIA Dynamo, ``dynamo.replay`` and ``lib/mocker`` (ai-dynamo 1.6.1), https://github.com/ai-dynamo/dynamo.
.. [2] M. Reiser and S. S. Lavenberg, "Mean-value analysis of closed multichain queuing networks", J. ACM
   27(2), 1980.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gametheory._progress import progress
from gametheory._validate import instance, integer, nonnegative_scalar, number_list
from gametheory.errors import InvalidInputError

__all__ = ["METRICS", "TTFT_PARTS", "CrossCheck", "ValidationRow", "cross_check", "sim_run", "sim_vs_model",
           "sim_vs_replay", "ttft_breakdown"]

METRICS = ("ttft_p50_ms", "ttft_p99_ms", "throughput_rps", "itl_mean_ms", "mean_latency_ms", "poa_hat")
#: the parts of a request's TTFT in :func:`ttft_breakdown`, in the order a request meets them (ms); they sum to TTFT
TTFT_PARTS = ("prefill_queue_ms", "prefill_step_ms", "handoff_ms", "first_step_ms")


@dataclass(frozen=True)
class ValidationRow:
    """One concurrency: replay and simulator means of each metric and their relative errors.

    Parameters
    ----------
    setup : str
    concurrency : int
    replay, sim : dict
        Means of each metric of :data:`METRICS` on each side.
    rel_err : dict
        (simulator - replay) / replay per metric.
    """

    setup: str
    concurrency: int
    replay: dict
    sim: dict
    rel_err: dict


def _requests(c: int, n_requests: int | None) -> int:
    if n_requests is None:
        return 2 * c + max(1000, 4 * c)
    return integer(n_requests, "n_requests", minimum=1, maximum=100_000_000)


def sim_run(cluster, concurrency: int, tau: float = 0.0, omega: float = 1.0, *, workload=None,
            n_requests: int | None = None, seed: int = 0) -> dict:
    """Our simulator measured as :func:`gametheory.serving.dynamo.replay_run` measures the replay.

    Parameters
    ----------
    cluster : Cluster or str
        A Cluster or a name of :data:`gametheory.serving.engine.PAPER_SETUPS`.
    concurrency : int
    tau, omega : float
    workload : Workload, optional
    n_requests : int, optional
        Default ``2 C + max(1000, 4 C)`` (the replay's default).
    seed : int

    Returns
    -------
    dict
        The :data:`METRICS`.

    Raises
    ------
    InvalidInputError
        C below 1, or as :func:`~gametheory.serving.simulator.simulate`.
    """
    from gametheory.serving.engine import Cluster, paper_cluster
    from gametheory.serving.simulator import simulate

    cluster = cluster if isinstance(cluster, Cluster) else paper_cluster(cluster)
    if isinstance(concurrency, bool) or not isinstance(concurrency, (int, np.integer)) or concurrency < 1:
        raise InvalidInputError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    c = int(concurrency)
    r = simulate(cluster, workload, c, _requests(c, n_requests), warmup=2 * c, tau=tau, omega=omega, seed=seed)
    body = r.log[r.warmup:]
    return {"ttft_p50_ms": r.ttft_p50_ms, "ttft_p99_ms": r.ttft_p99_ms, "throughput_rps": r.throughput_rps,
            "itl_mean_ms": float(body["itl_ms"].mean()), "mean_latency_ms": r.mean_latency_ms,
            "poa_hat": float(r.poa_hat().value)}


def sim_vs_replay(setup, concurrencies, tau: float = 0.0, omega: float = 1.0, *, workload=None, repeats: int = 3,
                  n_requests: int | None = None) -> list[ValidationRow]:
    """Replay vs simulator at each C (``repeats`` seeds each, means compared); see the module docstring.

    Parameters
    ----------
    setup : str or Cluster
        A name of :data:`gametheory.serving.engine.PAPER_SETUPS` or a Cluster (both sides use it).
    concurrencies : iterable of int
    tau, omega : float
    workload : Workload, optional
    repeats : int
    n_requests : int, optional

    Returns
    -------
    list of ValidationRow

    Raises
    ------
    InvalidInputError
        ai-dynamo not installed, repeats below 1, an unknown setup.
    """
    from gametheory.serving.dynamo import dynamo_available, replay_run
    from gametheory.serving.engine import Cluster, paper_cluster

    if not dynamo_available():
        raise InvalidInputError("sim_vs_replay needs ai-dynamo 1.6.1 (run `make dynamo`)")
    repeats = integer(repeats, "repeats", minimum=1, maximum=10_000)
    concurrencies = number_list(concurrencies, "concurrencies", integers=True)
    tau, omega = nonnegative_scalar(tau, "tau"), nonnegative_scalar(omega, "omega")
    cluster = setup if isinstance(setup, Cluster) else paper_cluster(setup)
    rows = []
    for c in progress(list(concurrencies), "replay vs simulator", leave=False):
        reps = [replay_run(cluster, int(c), tau, omega, workload=workload, n_requests=n_requests, seed=k)
                for k in range(int(repeats))]
        sims = [sim_run(cluster, int(c), tau, omega, workload=workload, n_requests=n_requests, seed=k)
                for k in range(int(repeats))]
        rep = {k: float(np.mean([getattr(r, k) for r in reps])) for k in METRICS}
        sim = {k: float(np.mean([r[k] for r in sims])) for k in METRICS}
        err = {k: (sim[k] - rep[k]) / rep[k] for k in METRICS}
        rows.append(ValidationRow(cluster.name, int(c), rep, sim, err))
    return rows


def sim_vs_model(cluster, concurrencies, *, workload=None, n_requests: int = 4000, seed: int = 0) -> list[dict]:
    """Our simulator against the approximate MVA of :func:`gametheory.serving.queueing.closed_loop`.

    Parameters
    ----------
    cluster : Cluster
    concurrencies : iterable of int
    workload : Workload, optional
    n_requests : int
        Requests per point after a warm-up of 2 C (which is added).
    seed : int

    Returns
    -------
    list of dict
        Per C: ``throughput_rps``, ``ttft_mean_ms``, ``itl_mean_ms`` as (simulator, model, (model - sim) / sim).
    """
    from gametheory.serving.queueing import closed_loop
    from gametheory.serving.simulator import simulate

    rows = []
    n_requests = integer(n_requests, "n_requests", minimum=1, maximum=100_000_000)
    for c in progress(number_list(concurrencies, "concurrencies", integers=True), "simulator vs MVA",
                     leave=False):
        sim = simulate(cluster, workload, c, 2 * c + n_requests, warmup=2 * c, seed=seed)
        model = closed_loop(cluster, c, workload)
        steady = sim.log[sim.warmup:]
        pairs = {"throughput_rps": (sim.throughput_rps, float(model.throughput_rps[0])),
                 "ttft_mean_ms": (float(steady["ttft_ms"].mean()), float(model.ttft_ms[0])),
                 "itl_mean_ms": (float(steady["itl_ms"].mean()), float(model.itl_ms[0]))}
        row = {"concurrency": c}
        for name, (s, m) in pairs.items():
            row[name] = (s, m, (m - s) / s)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class CrossCheck:
    """Simulator vs replay over a load grid: the rows, both knees and the largest relative errors.

    Parameters
    ----------
    setup : str
    rows : list of ValidationRow
    knee_sim, knee_replay : float or None
        Hinge knee of mean latency against C on each side (:func:`gametheory.regimes.find_knee`).
    max_rel_err : dict
        Largest |relative error| of each metric over the grid.
    """

    setup: str
    rows: list
    knee_sim: float | None
    knee_replay: float | None
    max_rel_err: dict

    @property
    def knee_rel_err(self) -> float | None:
        """(simulator knee - replay knee) / replay knee."""
        if self.knee_sim is None or self.knee_replay is None:
            return None
        return self.knee_sim / self.knee_replay - 1.0


def cross_check(setup, concurrencies, *, workload=None, repeats: int = 1, n_requests: int | None = None
                ) -> CrossCheck:
    """:func:`sim_vs_replay` over a load grid, with the knee of each side and the largest errors.

    Parameters
    ----------
    setup : str or Cluster
    concurrencies : iterable of int
        At least 4 distinct values spanning the knee.
    workload, repeats, n_requests
        As :func:`sim_vs_replay`.

    Returns
    -------
    CrossCheck

    Raises
    ------
    InvalidInputError
        As :func:`sim_vs_replay`.
    """
    from gametheory.regimes import find_knee

    rows = sim_vs_replay(setup, concurrencies, workload=workload, repeats=repeats, n_requests=n_requests)
    x = np.array([r.concurrency for r in rows], float)
    knees = []
    for side in ("sim", "replay"):
        y = np.array([getattr(r, side)["mean_latency_ms"] for r in rows])
        try:
            knees.append(float(find_knee(x, y, n_boot=0).load))
        except InvalidInputError:
            knees.append(None)
    worst = {k: float(max(abs(r.rel_err[k]) for r in rows)) for k in METRICS}
    return CrossCheck(rows[0].setup, rows, knees[0], knees[1], worst)


def _prefill_steps(done_ms: np.ndarray, uncached: np.ndarray, cluster) -> tuple[np.ndarray, np.ndarray]:
    """Per request: the modelled time of the prefill step it finished in and that step's size (requests).

    A step is the set of requests whose prefill ends at the same instant; its time is the engine model's
    ``prefill_ms`` of the step's new tokens (the rule both the mocker and our simulator use).
    """
    steps, inverse, size = np.unique(np.round(done_ms, 6), return_inverse=True, return_counts=True)
    tokens = np.bincount(inverse, weights=uncached, minlength=steps.size)
    step_ms = np.array([cluster.prefill_ms(t) for t in tokens])
    return step_ms[inverse], size[inverse].astype(float)


def _breakdown(arrival, prefill_done, admit, first_token, uncached, itl, cluster, warm: int) -> dict:
    """Mean TTFT parts of the requests after the first ``warm`` (arrays in arrival order, all requests)."""
    step, size = _prefill_steps(prefill_done, uncached, cluster)  # over all: warm-up requests share steps
    b = slice(warm, None)
    ttft = (first_token - arrival)[b]
    return {"ttft_mean_ms": float(ttft.mean()), "ttft_p50_ms": float(np.percentile(ttft, 50)),
            "ttft_p99_ms": float(np.percentile(ttft, 99)),
            "prefill_queue_ms": float(np.mean((prefill_done - arrival - step)[b])),
            "prefill_step_ms": float(step[b].mean()), "handoff_ms": float(np.mean((admit - prefill_done)[b])),
            "first_step_ms": float(np.mean((first_token - admit)[b])), "prefill_batch": float(size[b].mean()),
            "uncached_tokens": float(uncached[b].mean()), "itl_mean_ms": float(np.mean(itl[b]))}


def ttft_breakdown(setup, concurrency: int, *, workload=None, n_requests: int | None = None, seed: int = 0) -> dict:
    """Where TTFT goes, per request, in the Dynamo replay and in our simulator on the same engine model.

    Both sides run the same cluster, workload, request count and warm-up (the first 2 C requests are left out);
    the means over the measured requests of four consecutive parts (:data:`TTFT_PARTS`) sum to the mean TTFT:

    - ``prefill_queue_ms``: arrival to the start of the prefill step the request finishes in (routing, FCFS wait
      and, with chunked prefill, earlier chunks);
    - ``prefill_step_ms``: that step's time, the engine model's ``prefill_ms`` of the step's new tokens (a step =
      the requests whose prefill ends at the same instant; ``prefill_batch`` is the mean step size a request
      sees, ``uncached_tokens`` its mean new tokens after prefix-cache hits);
    - ``handoff_ms``: prefill end to admission into a decode batch. Replay: ``decode_admit_ms -
      source_held_ms``, split into ``reserve_ms`` (to ``destination_reserved_ms``) and ``activate_ms`` (to
      ``destination_activated_ms``); ``idle_share`` is the share of requests whose decode worker held no
      request at their prefill end. Simulator: the KV transfer;
    - ``first_step_ms``: decode admission to the first token: one decode step on both sides (in the simulator
      plus any wait for a free decode slot, none while a worker's batch stays below ``max_num_seqs``: a
      request joins the running batch at once, mid-step).

    Parameters
    ----------
    setup : str or Cluster
        A name of :data:`gametheory.serving.engine.PAPER_SETUPS` or a Cluster.
    concurrency : int
        Closed-loop clients C (>= 1).
    workload : Workload, optional
        Default :func:`~gametheory.serving.workload.paper_workload`.
    n_requests : int, optional
        Default ``2 C + max(1000, 4 C)``.
    seed : int
        Arrival seed of both sides.

    Returns
    -------
    dict
        ``{"replay": {...}, "sim": {...}, "gap": {...}}``: on each side ``ttft_mean_ms``, ``ttft_p50_ms``,
        ``ttft_p99_ms``, the :data:`TTFT_PARTS`, ``prefill_batch``, ``uncached_tokens`` and ``itl_mean_ms`` (the
        replay adds ``reserve_ms``, ``activate_ms``, ``idle_share``); ``gap`` is replay minus simulator for
        ``ttft_mean_ms`` and each part (ms).

    Raises
    ------
    InvalidInputError
        ai-dynamo not installed, an unknown setup, C below 1, a bad seed or request count.

    References
    ----------
    NVIDIA Dynamo 1.6.1 ``dynamo.replay`` per-request records (``prefill_admit_ms``, ``source_held_ms``,
    ``destination_reserved_ms``, ``destination_activated_ms``, ``decode_admit_ms``), https://github.com/ai-dynamo/dynamo.
    """
    from gametheory.serving.dynamo import dynamo_available, replay_run
    from gametheory.serving.engine import Cluster, paper_cluster
    from gametheory.serving.simulator import simulate
    from gametheory.serving.workload import Workload, paper_workload

    if not dynamo_available():
        raise InvalidInputError("ttft_breakdown needs ai-dynamo 1.6.1 (run `make dynamo`)")
    cluster = setup if isinstance(setup, Cluster) else paper_cluster(setup)
    wl = paper_workload() if workload is None else instance(workload, Workload, "workload")
    c = integer(concurrency, "concurrency", minimum=1, maximum=100_000)
    seed = integer(seed, "seed", minimum=0)
    n = _requests(c, n_requests)
    if n <= 2 * c:
        raise InvalidInputError(f"n_requests must exceed the warm-up 2 C = {2 * c}, got {n}")

    rep = replay_run(cluster, c, workload=wl, n_requests=n, seed=seed, keep_records=True, with_poa=False)
    recs = sorted(rep.per_request, key=lambda r: r["arrival_time_ms"])
    col = {k: np.array([r[k] for r in recs], float) for k in
           ("arrival_time_ms", "source_held_ms", "destination_reserved_ms", "destination_activated_ms",
            "decode_admit_ms", "first_token_ms", "terminal_time_ms", "input_length", "reused_input_tokens",
            "decode_worker_idx", "itl_ms")}
    held, admit, worker, end = (col["source_held_ms"], col["decode_admit_ms"], col["decode_worker_idx"],
                                col["terminal_time_ms"])
    replay = _breakdown(col["arrival_time_ms"], held, admit, col["first_token_ms"],
                        col["input_length"] - col["reused_input_tokens"], col["itl_ms"], cluster, 2 * c)
    b = slice(2 * c, None)
    replay["reserve_ms"] = float(np.mean((col["destination_reserved_ms"] - held)[b]))
    replay["activate_ms"] = float(np.mean((col["destination_activated_ms"] - col["destination_reserved_ms"])[b]))
    replay["idle_share"] = float(np.mean([not np.any((worker == worker[i]) & (admit <= held[i]) & (end > held[i]))
                                          for i in range(2 * c, len(recs))]))

    log = simulate(cluster, wl, c, n, warmup=2 * c, seed=seed).log
    transfer = np.broadcast_to(np.asarray(cluster.transfer_ms(log["input_tokens"].astype(float)), float), log.shape)
    sim = _breakdown(log["arrival_ms"], log["prefill_done_ms"], log["prefill_done_ms"] + transfer,
                     log["arrival_ms"] + log["ttft_ms"], (log["input_tokens"] - log["cached_tokens"]).astype(float),
                     log["itl_ms"], cluster, 2 * c)
    gap = {k: replay[k] - sim[k] for k in ("ttft_mean_ms", *TTFT_PARTS)}
    return {"replay": replay, "sim": sim, "gap": gap}
