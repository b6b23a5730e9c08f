"""Validation of our cluster model against NVIDIA Dynamo's real router: simulator vs replay, same workload.

:func:`sim_vs_replay` runs, for each closed-loop concurrency C, the Dynamo 1.6.1 replay
(:func:`gametheory.serving.dynamo.replay_run`: real KV router, Rust mocker workers, virtual clock) and our
discrete-event simulator (:class:`gametheory.serving.sim_actuator.ClusterSim`) on the same setup and measures
both the same way:

- same workload: 128-token inputs, 5 templates sharing their first 64 tokens, 128 output tokens,
  ``max(400, 4 C)`` requests, all C clients sending at t = 0, no warm-up discarded (the replay reports whole
  runs);
- same engine limits: prefill steps of at most 8,192 tokens (the mocker's ``max_num_batched_tokens``) and,
  by default, 256 decode batch slots per worker (the mocker's ``max_num_seqs``); no KV-transfer time (the
  replay's disaggregated TTFT is prefill + one decode step, checked by ``replay_timing_check``);
- same router setting (tau, omega) and same metrics: TTFT P50/P99 over all requests (ms), throughput =
  requests / (last completion - first arrival) (requests/s), mean ITL (ms), and PoA-hat from
  :func:`gametheory.serving.dynamo.request_log` (frozen decode latencies, windows of m, Hungarian OPT).

Both sides are repeated (``repeats`` seeds; Dynamo breaks routing ties at random) and averaged; the relative
error of a metric is (simulator - replay) / replay. Needs ai-dynamo 1.6.1 (``make dynamo``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.paper_setup import SHARED_PREFIX_TOKENS

__all__ = ["METRICS", "ValidationRow", "sim_run", "sim_vs_model", "sim_vs_replay"]

METRICS = ("ttft_p50_ms", "ttft_p99_ms", "throughput_rps", "itl_mean_ms", "poa_hat")


@dataclass(frozen=True)
class ValidationRow:
    """One concurrency: replay and simulator means of each metric in :data:`METRICS` and the relative errors
    (simulator - replay) / replay."""

    setup: str
    concurrency: int
    replay: dict
    sim: dict
    rel_err: dict


def sim_run(setup: str, concurrency: int, tau: float = 0.0, omega: float = 1.0, *, n_requests: int | None = None,
            seed: int = 0, max_num_seqs: int | None = 256, osl: int = 128) -> dict:
    """Our simulator on the replay's workload and limits (module docstring); returns the :data:`METRICS`."""
    from gametheory.serving.dynamo import SETUPS
    from gametheory.serving.profiles import load_profile
    from gametheory.serving.sim_actuator import ClusterSim, decode_poa_hat, replay_workload

    s = SETUPS[setup]
    c = int(concurrency)
    if c < 1:
        raise InvalidInputError(f"concurrency must be >= 1, got {concurrency}")
    n = int(n_requests) if n_requests is not None else max(400, 4 * c)
    p = load_profile(s.profile)
    sim = ClusterSim(p, s.n_decode, c, n, workload=replay_workload(osl), tau=tau, omega=omega,
                     max_prefill_tokens=8192, max_num_seqs=max_num_seqs, link_gb_per_s=0.0, seed=seed)
    sim.run_until()
    log = sim.log()
    span_ms = float(log["end_ms"].max() - log["arrival_ms"].min())
    return {"ttft_p50_ms": float(np.percentile(log["ttft_ms"], 50)),
            "ttft_p99_ms": float(np.percentile(log["ttft_ms"], 99)),
            "throughput_rps": log.size / span_ms * 1e3,
            "itl_mean_ms": float(log["itl_ms"].mean()),
            "poa_hat": decode_poa_hat(sim.decode_records(), p, s.n_decode, osl)}


def sim_vs_replay(setup: str, concurrencies, tau: float = 0.0, omega: float = 1.0, *, repeats: int = 3,
                  n_requests: int | None = None, max_num_seqs: int | None = 256) -> list[ValidationRow]:
    """Replay vs simulator at each C (``repeats`` seeds each, means compared); see the module docstring."""
    from gametheory.serving.dynamo import dynamo_available, replay_run

    if not dynamo_available():
        raise InvalidInputError("sim_vs_replay needs ai-dynamo 1.6.1 (run `make dynamo`)")
    if int(repeats) < 1:
        raise InvalidInputError(f"repeats must be >= 1, got {repeats}")
    rows = []
    for c in concurrencies:
        reps = [replay_run(setup, int(c), tau, omega, n_requests=n_requests, seed=k) for k in range(int(repeats))]
        sims = [sim_run(setup, int(c), tau, omega, n_requests=n_requests, seed=k, max_num_seqs=max_num_seqs)
                for k in range(int(repeats))]
        rep = {k: float(np.mean([getattr(r, k) for r in reps])) for k in METRICS}
        sim = {k: float(np.mean([r[k] for r in sims])) for k in METRICS}
        err = {k: (sim[k] - rep[k]) / rep[k] for k in METRICS}
        rows.append(ValidationRow(setup, int(c), rep, sim, err))
    return rows


def sim_vs_model(profile, n_decode: int, concurrencies, *, n_requests: int = 4000, warmup: int = 1000,
                 prefix_tokens: int = SHARED_PREFIX_TOKENS, seed: int = 0) -> list[dict]:
    """Our simulator against our analytic closed-loop model (:func:`gametheory.serving.queueing.closed_loop`,
    approximate MVA) on the paper's workload (5 templates, 128-token inputs sharing ``prefix_tokens``, warm
    caches, so the model's prefill computes ``128 - prefix_tokens`` tokens): throughput, mean TTFT and mean
    ITL per C with the relative errors (model - simulator) / simulator. The model treats the prefill worker as
    a queue of single requests, the simulator batches whatever is queued: expect TTFT to part first."""
    from gametheory.serving.queueing import closed_loop
    from gametheory.serving.simulator import simulate
    from gametheory.serving.workload import Workload

    if warmup >= n_requests:
        raise InvalidInputError(f"warmup ({warmup}) must be below n_requests ({n_requests})")
    workload = Workload(n_templates=5, prefix_tokens=prefix_tokens)
    rows = []
    for c in concurrencies:
        sim = simulate(profile, n_decode, int(c), n_requests, workload=workload, warmup=warmup, seed=seed)
        model = closed_loop(profile, n_decode, int(c), uncached_tokens=128 - prefix_tokens)
        steady = sim.log[warmup:]
        pairs = {"throughput_rps": (sim.throughput_rps, float(model.throughput_rps[0])),
                 "ttft_mean_ms": (float(steady["ttft_ms"].mean()), float(model.ttft_ms[0])),
                 "itl_mean_ms": (float(steady["itl_ms"].mean()), float(model.itl_ms[0]))}
        row = {"concurrency": int(c)}
        for name, (s, m) in pairs.items():
            row[name] = (s, m, (m - s) / s)
        rows.append(row)
    return rows
