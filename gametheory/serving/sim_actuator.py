"""Our simulator as the adaptive controller's actuator (paper section 6: "our simulator and the live Dynamo
stack" are the two implementations of one interface).

:class:`SimulatorActuator` is a resumable view of one :class:`~gametheory.serving.simulator.ClusterSim`: interval
k runs ``interval_s`` seconds of virtual time at closed-loop concurrency ``ramp[k]`` under the router setting the
controller chose, and reports what a Prometheus poll would: TTFT P99 of the first tokens produced in the interval
(ms) and completions per second. Every queue, batch, cache and client carries over between intervals.

PoA-hat needs the realized latency of every request of a window, and past the knee a request outlives a 5 s
poll: an interval's report leaves it out (``poa_hat = None``), and :meth:`SimulatorActuator.poa_hat_between`
gives the paper-form PoA-hat of the requests that arrived in a span of intervals once they have finished
(it drains the simulation, so call it after the last interval). :func:`gametheory.serving.controller.static_vs_adaptive`
uses it for the saturated phase.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026 (section 6: the
   controller polls TTFT P99 every 5 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gametheory._validate import integer
from gametheory.errors import InvalidInputError
from gametheory.serving.controller import IntervalReport
from gametheory.serving.engine import Cluster, paper_cluster
from gametheory.serving.simulator import MAX_REQUESTS, ClusterSim
from gametheory.serving.workload import Workload

__all__ = ["SimulatorActuator"]


@dataclass
class SimulatorActuator:
    """:class:`~gametheory.serving.controller.Actuator` on one continuous :class:`ClusterSim`.

    Parameters
    ----------
    setup : str or Cluster
        A name of :data:`gametheory.serving.engine.PAPER_SETUPS` (vLLM default engine) or a Cluster.
    ramp : tuple of int
        Closed-loop concurrency of each interval (1 .. :data:`~gametheory.serving.simulator.MAX_REQUESTS`).
    seed : int
        Seed of the simulation.
    interval_s : float
        Poll interval (virtual seconds, > 0).
    workload : Workload, optional
        Default :func:`~gametheory.serving.workload.paper_workload`.

    Raises
    ------
    InvalidInputError
        An unknown setup, an empty ramp or a concurrency below 1, a non-positive interval; intervals run out of
        order.
    """

    setup: object
    ramp: tuple
    seed: int = 0
    interval_s: float = 5.0
    workload: Workload | None = None
    sim: ClusterSim | None = field(default=None, init=False, repr=False)
    _next: int = field(default=0, init=False, repr=False)

    def __post_init__(self):
        cluster = self.setup if isinstance(self.setup, Cluster) else paper_cluster(self.setup)
        if isinstance(self.ramp, (str, bytes)) or not hasattr(self.ramp, "__len__") or not len(self.ramp):
            raise InvalidInputError(f"ramp must list concurrencies >= 1, got {self.ramp!r}")
        self.ramp = tuple(integer(c, f"ramp[{i}] (concurrency)", minimum=1, maximum=MAX_REQUESTS)
                          for i, c in enumerate(self.ramp))
        if not (isinstance(self.interval_s, (int, float)) and math.isfinite(self.interval_s) and self.interval_s > 0):
            raise InvalidInputError(f"interval_s must be a finite number > 0, got {self.interval_s!r}")
        self.cluster = cluster
        self.sim = ClusterSim(cluster, self.workload, int(self.ramp[0]), None, seed=self.seed)

    def run_interval(self, index: int, tau: float, omega: float) -> IntervalReport:
        """Run one poll interval under a router setting (see the module docstring).

        Parameters
        ----------
        index : int
            The interval, in order 0, 1, 2, ...
        tau, omega : float
            Router temperature and overlap weight for this interval.

        Returns
        -------
        IntervalReport
            TTFT P99 of the first tokens produced in the interval (ms), completions per second, no PoA-hat
            (:meth:`poa_hat_between`).

        Raises
        ------
        InvalidInputError
            Intervals out of order, or a bad setting.
        """
        if index != self._next:
            raise InvalidInputError(f"SimulatorActuator runs intervals in order: expected {self._next}, got {index}")
        self._next += 1
        sim = self.sim
        c = int(self.ramp[index])
        t0 = index * self.interval_s * 1e3
        t1 = t0 + self.interval_s * 1e3
        sim.set_setting(tau, omega)
        sim.set_concurrency(c)
        sim.run_until(t1)
        n = sim.n_sent
        first = np.asarray(sim.first_tok[:n])  # first-token times (ms)
        seen = (first >= t0) & (first < t1)
        arr = np.asarray(sim.arrival[:n])
        if seen.any():
            ttft_p99 = float(np.percentile(first[seen] - arr[seen], 99))
        else:  # no first token in the interval: the oldest waiting request's age is a lower bound
            ttft_p99 = float(t1 - np.nanmin(np.where(np.isnan(first), arr, np.nan)))
        end = np.asarray(sim.end[:n])
        done = int(np.count_nonzero((end >= t0) & (end < t1)))
        return IntervalReport(ttft_p99, done / self.interval_s, None, c, self.interval_s)

    def poa_hat_between(self, first_interval: int, last_interval: int, metric: str = "e2e") -> float:
        """Paper-form PoA-hat of the requests that arrived during a span of intervals, after letting them
        finish (the simulation is drained: call it last).

        Parameters
        ----------
        first_interval, last_interval : int
            The span, inclusive.
        metric : {"e2e", "ttft"}
            End-to-end latency or TTFT.

        Returns
        -------
        float

        Raises
        ------
        InvalidInputError
            Intervals not yet run, or no whole window in the span.
        """
        from gametheory.serving.estimator import poa_hat_log

        if not 0 <= first_interval <= last_interval < self._next:
            raise InvalidInputError(f"intervals must satisfy 0 <= first <= last < {self._next} (run so far), got "
                                    f"({first_interval}, {last_interval})")
        sim = self.sim
        sim.drain()
        log = sim.log()
        t0, t1 = first_interval * self.interval_s * 1e3, (last_interval + 1) * self.interval_s * 1e3
        rows = np.flatnonzero((log["arrival_ms"] >= t0) & (log["arrival_ms"] < t1))
        if rows.size < sim.m:
            raise InvalidInputError(f"fewer than one window of requests arrived in intervals {first_interval}.."
                                    f"{last_interval}")
        return float(poa_hat_log(log[rows[0]: rows[-1] + 1], metric=metric).value)
