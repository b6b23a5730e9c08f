"""The simulator as the controller's actuator: resumable simulation, switch points, determinism by seed."""

import math

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.controller import AdaptiveController, run_controller
from gametheory.serving.profiles import load_profile
from gametheory.serving.sim_actuator import ClusterSim, SimulatorActuator, replay_workload
from gametheory.serving.simulator import simulate

P = load_profile("b200_llama31_70b_tp4_fp8_trtllm")


@pytest.mark.parametrize("kw", [dict(n_decode=3, concurrency=16, n_requests=600, seed=7, tau=0.5),
                                dict(n_decode=2, concurrency=40, n_requests=800, seed=3, omega=0.1, tau=0.8),
                                dict(n_decode=4, concurrency=24, n_requests=500, seed=2, policy="sglang")])
def test_paused_cluster_sim_reproduces_simulate_request_for_request(kw):
    # Independent truth: the one-shot simulator. Pausing and resuming must not change a single event.
    ref = simulate(P, **kw).log
    sim = ClusterSim(P, **kw)
    for t in (137.0, 900.0, 2500.5):
        sim.run_until(t)
    sim.run_until()
    got = sim.log()
    for f in got.dtype.names:  # simulate's log adds the window-frozen PoA-hat fields (window, window_costs)
        np.testing.assert_array_equal(ref[f], got[f], err_msg=f)


def _in_flight(sim):
    return sim.n_sent - int(np.count_nonzero(~np.isnan(np.asarray(sim.end[: sim.n_sent]))))


def test_concurrency_changes_carry_state_and_keep_exactly_c_clients():
    sim = ClusterSim(P, 2, 32, workload=replay_workload(32), seed=0)
    sim.run_until(2000.0)
    assert _in_flight(sim) == 32
    sent = sim.n_sent
    sim.set_concurrency(4)  # surplus clients leave as their requests finish, none is dropped
    sim.run_until(8000.0)
    assert _in_flight(sim) == 4 and sim.n_sent > sent
    sim.set_concurrency(20)  # new clients send at the boundary
    assert _in_flight(sim) == 4
    sim.run_until(8000.0)
    assert _in_flight(sim) == 20
    arr = np.asarray(sim.arrival[: sim.n_sent])
    assert np.all(np.diff(arr) >= 0)  # one continuous clock, no restart


def test_batch_slot_limit_is_respected():
    sim = ClusterSim(P, 2, 40, 600, workload=replay_workload(32), max_num_seqs=3, seed=1)
    sim.run_until()
    log = sim.log()
    first = np.asarray(sim.first_tok[: sim.n_sent])  # decode admission times (ms)
    for w in range(2):
        on = log["worker"] == w
        ev = sorted([(e, -1) for e in log["end_ms"][on]] + [(s, 1) for s in first[on]])
        assert max(np.cumsum([d for _, d in ev])) <= 3
    free = ClusterSim(P, 2, 40, 600, workload=replay_workload(32), seed=1)
    free.run_until()
    assert np.percentile(log["ttft_ms"], 50) > 3 * np.percentile(free.log()["ttft_ms"], 50)


def test_switch_points_on_a_load_step():
    # C = 4 for three polls, then 512: TTFT P99 jumps from ~20 ms to hundreds of ms, so with alpha = 1 the
    # controller escalates exactly after the first loaded poll and the next interval runs the new setting.
    ramp = (4, 4, 4, 512, 512)
    act = SimulatorActuator("70b_1p2d", ramp, seed=0, interval_s=1.0)
    res = run_controller(AdaptiveController(100.0, 1e6, alpha=1.0), act, len(ramp))
    reps = [r for r, _ in res]
    assert all(r.ttft_p99_ms < 100.0 for r in reps[:3]) and reps[3].ttft_p99_ms > 100.0
    assert [d.regime for _, d in res] == [0, 0, 0, 1, 1]
    assert (act.sim.tau, act.sim.omega) == (0.7, 1.0)  # interval 4 ran the transition setting
    assert act.sim.now == pytest.approx(5e3)
    for r in reps:
        assert math.isfinite(r.ttft_p99_ms) and r.throughput_rps > 0
        assert r.poa_hat is not None and 0.5 < r.poa_hat < 2.0
    with pytest.raises(InvalidInputError):
        act.run_interval(2, 0.0, 1.0)  # out of order


def test_deterministic_by_seed():
    def reports(seed):
        act = SimulatorActuator("70b_1p5d", (16, 64, 64), seed=seed, interval_s=1.0, sim_kw={"workload":
                                                                                              replay_workload(32)})
        return [act.run_interval(k, 0.7, 1.0) for k in range(3)]

    a, b, c = reports(5), reports(5), reports(6)
    assert a == b
    assert a != c
