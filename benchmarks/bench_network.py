"""Network-assignment speed: Sioux Falls UE to relative gap 1e-8 and Anaheim to 1e-6, against aequilibrae.

Runs our path-based gradient projection (gametheory.games.network) and, when aequilibrae is installed
(`pip install '.[bench]'`), aequilibrae's biconjugate Frank-Wolfe to the same relative gap on the same
machine, and prints times, sweeps/iterations, objectives and the speed ratio. Data: the TNTP files in
a local copy of the TransportationNetworks files (github.com/bstabler/TransportationNetworks; never copied
into the repo); the script says so and exits 0 when absent.

    .venv/bin/python benchmarks/bench_network.py
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from gametheory.games.network import read_tntp
from gametheory.io.tntp import read_tntp_net, read_tntp_trips

TNTP = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "tntp"
CASES = (("SiouxFalls", 1e-4), ("SiouxFalls", 1e-8), ("Anaheim", 1e-6))  # 1e-4: aequilibrae's default
AEQ_MAX_ITER = 5000  # biconjugate FW iterations allowed before giving up (about 45 s on Sioux Falls)


def ours(name: str, rgap: float):
    game = read_tntp(TNTP / f"{name}_net.tntp", TNTP / f"{name}_trips.tntp")
    start = time.perf_counter()
    res = game.equilibrium(rgap=rgap, max_iter=5000)
    return time.perf_counter() - start, res


def aequilibrae_bfw(name: str, rgap: float):
    """aequilibrae 'bfw' on the same TNTP data without a project; returns (seconds, iterations, gap, beckmann)."""
    import pandas as pd
    from aequilibrae.matrix import AequilibraeMatrix
    from aequilibrae.paths import Graph, TrafficAssignment, TrafficClass

    net = read_tntp_net(TNTP / f"{name}_net.tntp")
    trips = read_tntp_trips(TNTP / f"{name}_trips.tntp")
    links = pd.DataFrame({
        "link_id": np.arange(1, net.num_links + 1), "a_node": net.init_node, "b_node": net.term_node,
        "direction": np.ones(net.num_links, dtype=int), "free_flow_time": net.free_flow_time,
        "capacity": net.capacity, "b": net.b, "power": net.power,
    })
    g = Graph()
    g.network = links
    g.prepare_graph(np.arange(1, net.num_zones + 1, dtype=np.int64), remove_dead_ends=False)
    g.set_graph("free_flow_time")
    g.set_skimming(["free_flow_time"])
    g.set_blocked_centroid_flows(net.first_thru_node > 1)
    mat = AequilibraeMatrix()
    mat.create_empty(zones=net.num_zones, matrix_names=["demand"], memory_only=True)
    mat.index[:] = np.arange(1, net.num_zones + 1)
    dem = np.zeros((net.num_zones, net.num_zones))
    for (o, d), v in trips.items():
        dem[o - 1, d - 1] = v
    mat.matrices[:, :, 0] = dem
    mat.computational_view(["demand"])
    tc = TrafficClass("car", g, mat)
    ta = TrafficAssignment()
    ta.set_classes([tc])
    ta.set_vdf("BPR")
    ta.set_vdf_parameters({"alpha": "b", "beta": "power"})
    ta.set_capacity_field("capacity")
    ta.set_time_field("free_flow_time")
    ta.set_algorithm("bfw")
    ta.set_cores(1)
    ta.max_iter = AEQ_MAX_ITER
    ta.rgap_target = rgap
    start = time.perf_counter()
    ta.execute()
    seconds = time.perf_counter() - start
    report = ta.report()
    x = ta.results().sort_index()["PCE_tot"].to_numpy()  # total link loads, indexed by link_id 1..E
    t0, cap, b, p = net.free_flow_time, net.capacity, net.b, net.power
    beckmann = float(np.sum(t0 * x + t0 * b * cap * (x / cap) ** (p + 1) / (p + 1)))
    return seconds, int(report["iteration"].max()), float(report["rgap"].iloc[-1]), beckmann


def main() -> int:
    if not TNTP.is_dir():
        print(f"TNTP validation data absent ({TNTP}): nothing to benchmark")
        return 0
    try:
        import aequilibrae  # noqa: F401

        have_aeq = True
    except ImportError:
        have_aeq = False
        print("note: aequilibrae is not installed (pip install '.[bench]'); timing our solver only")
    for name, rgap in CASES:
        secs, res = ours(name, rgap)
        print(f"{name}: ours (path-based gradient projection) to rgap {rgap:.0e}: {secs:.2f} s, {res.nit} sweeps, "
              f"gap {res.gap:.2e}, Beckmann {res.objective:,.4f}, total time {res.cost:,.2f}")
        if have_aeq:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a_secs, a_it, a_gap, a_obj = aequilibrae_bfw(name, rgap)
            reached = "reached" if a_gap <= rgap else f"NOT reached after {a_it} iterations"
            print(f"{name}: aequilibrae bfw to rgap {rgap:.0e}: {a_secs:.2f} s, {a_it} iterations, gap {a_gap:.2e} "
                  f"({reached}), Beckmann {a_obj:,.4f}")
            bound = "" if a_gap <= rgap else ">= "  # aequilibrae stopped early: the ratio is a lower bound
            print(f"{name}: speed ratio aequilibrae / ours at rgap {rgap:.0e} = {bound}{a_secs / secs:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
