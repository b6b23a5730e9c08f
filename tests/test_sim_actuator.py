"""The simulator as the controller's actuator: one continuous simulation, switch points, PoA-hat of a phase."""

import math

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.controller import AdaptiveController, run_controller
from gametheory.serving.engine import paper_cluster
from gametheory.serving.sim_actuator import SimulatorActuator
from gametheory.serving.workload import paper_workload

WL = paper_workload(32)


def test_switch_points_on_a_load_step():
    # C = 4 for three polls, then 512: TTFT P99 jumps from ~20 ms to hundreds of ms, so with alpha = 1 the
    # controller escalates exactly after the first loaded poll and the next interval runs the new setting.
    ramp = (4, 4, 4, 512, 512)
    cl = paper_cluster("70b_1p2d").with_engine(max_prefill_seqs=8)
    act = SimulatorActuator(cl, ramp, seed=0, interval_s=1.0, workload=WL)
    res = run_controller(AdaptiveController(100.0, 1e6, alpha=1.0), act, len(ramp))
    reps = [r for r, _ in res]
    assert all(r.ttft_p99_ms < 100.0 for r in reps[:3]) and reps[3].ttft_p99_ms > 100.0
    assert [d.regime for _, d in res] == [0, 0, 0, 1, 1]
    assert (act.sim.tau, act.sim.omega) == (0.7, 1.0)  # interval 4 ran the transition setting
    assert act.sim.now == pytest.approx(5e3)
    for r in reps:
        assert math.isfinite(r.ttft_p99_ms) and r.throughput_rps > 0 and r.poa_hat is None
    # PoA-hat of the loaded phase, after its requests finish: past the knee it exceeds the quiet phase's
    quiet = SimulatorActuator(cl, ramp, seed=0, interval_s=1.0, workload=WL)
    run_controller(None, quiet, 3)
    assert act.poa_hat_between(3, 4) > 1.5 * quiet.poa_hat_between(0, 2)
    with pytest.raises(InvalidInputError, match="intervals"):
        act.poa_hat_between(4, 5)
    with pytest.raises(InvalidInputError):
        act.run_interval(2, 0.0, 1.0)  # out of order


def test_concurrency_changes_carry_state_and_keep_exactly_c_clients():
    act = SimulatorActuator("70b_1p2d", (32, 4, 20), seed=0, interval_s=2.0, workload=WL)
    sim = act.sim

    def in_flight():
        return sim.n_sent - int(np.count_nonzero(~np.isnan(np.asarray(sim.end[: sim.n_sent]))))

    act.run_interval(0, 0.0, 1.0)
    assert in_flight() == 32
    act.run_interval(1, 0.0, 1.0)  # surplus clients leave as their requests finish, none is dropped
    assert in_flight() == 4
    act.run_interval(2, 0.0, 1.0)  # new clients send at the boundary
    assert in_flight() == 20
    assert np.all(np.diff(np.asarray(sim.arrival[: sim.n_sent])) >= 0)  # one continuous clock


def test_deterministic_by_seed_and_named_errors():
    def reports(seed):
        act = SimulatorActuator("70b_1p5d", (16, 64, 64), seed=seed, interval_s=1.0, workload=WL)
        return [act.run_interval(k, 0.7, 1.0) for k in range(3)]

    a, b, c = reports(5), reports(5), reports(6)
    assert a == b and a != c
    with pytest.raises(InvalidInputError, match="ramp"):
        SimulatorActuator("70b_1p5d", (0, 4))
    with pytest.raises(InvalidInputError, match="interval_s"):
        SimulatorActuator("70b_1p5d", (4,), interval_s=0.0)
    with pytest.raises(InvalidInputError, match="setup"):
        SimulatorActuator("nope", (4,))
