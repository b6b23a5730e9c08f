"""The paper's experiments on the engine model: the simulated knee agrees with the analytic one, the sweep's
statistics are what they claim, experiment 3 runs both arms and the other split."""

import numpy as np
import pytest

from gametheory.serving.engine import EngineConfig, paper_cluster
from gametheory.serving.experiments import adaptive_vs_static, config_spread, knee_map, load_curve
from gametheory.serving.queueing import analytic_knee
from gametheory.serving.workload import paper_workload

GRID = (16, 32, 64, 96, 128, 192, 256, 512, 1024)


@pytest.mark.parametrize("setup, batch, output", [("70b_1p5d", 9, 23), ("340b_1p2d", 1, 150),
                                                  ("70b_1p2d", 27, 10)])
def test_simulated_knee_agrees_with_the_analytic_knee(setup, batch, output):
    lc = load_curve(setup, GRID, engine=EngineConfig(max_prefill_seqs=batch), workload=paper_workload(output),
                    measured=lambda c: max(800, 3 * c), n_boot=0)
    assert lc.knee is not None
    assert abs(lc.knee_c / lc.knee_analytic - 1) < 0.25
    assert lc.regimes[0] == "below" and lc.regimes[-1] == "saturated"
    # past the knee the throughput stays at the bottleneck's capacity and PoA-hat grows with C
    assert lc.throughput_rps[-1] == pytest.approx(lc.throughput_rps[-2], rel=0.02)
    assert lc.poa_hat[-1] > 3 * lc.poa_hat[1]


def test_config_spread_statistics():
    sp = config_spread("70b_1p2d", 32, 256, [(0.0, 1.0), (0.8, 0.1), (0.3, 2.0)],
                       engine=EngineConfig(max_prefill_seqs=9), workload=paper_workload(23),
                       measured=lambda c: 600)
    assert sp.cv_below == pytest.approx(sp.below.std() / sp.below.mean())
    assert sp.variance_ratio == pytest.approx(sp.above.var() / sp.below.var())
    assert sp.above.mean() > sp.below.mean()


def test_adaptive_vs_static_and_the_other_split():
    eng, wl = EngineConfig(max_prefill_seqs=9), paper_workload(23)
    o = adaptive_vs_static("70b_1p2d", engine=eng, workload=wl, trials=1, n_below=1, n_ramp=1, n_saturated=2,
                           split=(2, 1), interval_s=2.0)
    assert o.saturated == (2, 3) and len(o.ramp) == 4
    for arm in (o.static, o.adaptive, o.split):
        assert arm["poa_hat"] > 1 and arm["throughput_rps"] > 0
    # one prefill worker is the bottleneck: a second one carries more and queues less
    assert o.split["throughput_rps"] > 1.5 * o.static["throughput_rps"]
    assert o.split["poa_hat"] < o.static["poa_hat"]


def test_knee_map_is_the_analytic_knee():
    k = knee_map("70b_1p5d", [1, 9], [23, 64])
    one = paper_cluster("70b_1p5d", EngineConfig(max_prefill_seqs=9))
    assert k[1, 0] == pytest.approx(analytic_knee(one, paper_workload(23)))
    assert np.all(np.diff(k, axis=1) > 0)  # longer outputs, later knees
