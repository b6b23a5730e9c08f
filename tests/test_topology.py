"""Serving topology as a network game: structure, symmetry, capacity, a worked asymmetric-link case."""

import math

import numpy as np
import pytest

from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.serving.profiles import load_profile
from gametheory.serving.topology import decode_curve, layout_sweep, serving_topology

PROFILE = "b200_llama31_70b_tp4_fp8_trtllm"


@pytest.fixture(scope="module")
def profile():
    return load_profile(PROFILE)


def test_graph_structure(profile):
    g = serving_topology(profile, 2, 3, 10.0)
    assert g.graph.number_of_nodes() == 2 + 3 + 2
    assert g.graph.number_of_edges() == 2 + 2 * 3 + 3
    assert g.demands == {("router", "done"): 10.0}
    # prefill edge: M/M/1 at the batch-1 prefill latency of a 2048-token prompt
    mu = 1000.0 / profile.prefill_ms(2048)
    curve = g.graph.edges["router", ("P", 0)]["latency"]
    assert curve(0.0) == pytest.approx(profile.prefill_ms(2048))
    assert curve.capacity == pytest.approx(mu)


def test_decode_curve_is_littles_law(profile):
    curve = decode_curve(profile, 2048, 256)
    ctx = 2048 + 128
    for batch in (8.0, 64.0):
        t_ms = 256 * profile.decode_step_ms(batch, ctx)
        rate = 1000.0 * batch / t_ms  # requests/s that keep `batch` sequences in flight
        wait = 1000.0 / (curve.capacity - rate)
        assert curve(rate) == pytest.approx(t_ms + wait, rel=1e-6)
    assert np.all(np.diff(curve(np.linspace(0, 0.99 * curve.capacity, 50))) >= 0)


def test_symmetric_layout_splits_evenly_and_poa_is_one(profile):
    g = serving_topology(profile, 3, 3, 40.0)
    eq, opt = g.equilibrium(rgap=1e-10), g.optimum(rgap=1e-10)
    np.testing.assert_allclose([eq.flows["router", ("P", i)] for i in range(3)], 40 / 3, rtol=1e-6)
    np.testing.assert_allclose([eq.flows[("P", i), ("D", j)] for i in range(3) for j in range(3)], 40 / 9, rtol=1e-5)
    assert eq.cost / opt.cost == pytest.approx(1.0, abs=1e-9)


def test_slow_links_equilibrium_vs_optimum(profile):
    slow = {(0, 0): 50.0, (0, 1): 50.0, (0, 2): 2.0, (1, 0): 2.0, (1, 1): 50.0, (1, 2): 50.0}
    g = serving_topology(profile, 2, 3, 30.0, kv_bandwidth_gb_per_s=slow)
    eq, opt = g.equilibrium(rgap=1e-10), g.optimum(rgap=1e-10)
    assert opt.cost <= eq.cost * (1 + 1e-12)
    assert eq.certificate.ok and opt.certificate.ok
    # every used route costs the same at equilibrium (Wardrop): check with the per-edge curves
    lat = {e: g.graph.edges[e]["latency"](eq.flows[e]) for e in g.edges}
    used = [(i, j) for i in range(2) for j in range(3) if eq.flows[("P", i), ("D", j)] > 1e-6]
    costs = [lat["router", ("P", i)] + lat[("P", i), ("D", j)] + lat[("D", j), "done"] for i, j in used]
    assert max(costs) - min(costs) <= 1e-6 * min(costs)


def test_overloaded_layouts_are_reported(profile):
    rows = layout_sweep(profile, 6, 40.0)
    assert [r.n_prefill for r in rows] == [1, 2, 3, 4, 5]
    mu = 1000.0 / profile.prefill_ms(2048)
    for r in rows:
        feasible = r.n_prefill * mu > 40.0
        assert (r.equilibrium_ms is not None) == feasible
        assert math.isnan(r.poa) != feasible
    with pytest.raises(CapacityExceededError, match="max flow"):
        serving_topology(profile, 1, 5, 40.0).equilibrium()


def test_bad_arguments(profile):
    with pytest.raises(InvalidInputError, match="n_prefill"):
        serving_topology(profile, 0, 2, 1.0)
    with pytest.raises(InvalidInputError, match="kv_links"):
        serving_topology(profile, 1, 1, 1.0, kv_links=[(0, 3)])
    with pytest.raises(InvalidInputError, match="no KV link"):
        serving_topology(profile, 2, 1, 1.0, kv_links=[(0, 0)])
    with pytest.raises(InvalidInputError, match="rate"):
        serving_topology(profile, 1, 1, -1.0)
