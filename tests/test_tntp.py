"""TNTP reader: the shipped validation files parse to their stated sizes; malformed input names file:line."""

from pathlib import Path

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.io.tntp import read_tntp_flows, read_tntp_net, read_tntp_trips

TNTP = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "tntp"
needs_tntp = pytest.mark.skipif(not TNTP.is_dir(), reason=f"TNTP validation data absent ({TNTP})")

NET = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 3
<FIRST THRU NODE> 3
<NUMBER OF LINKS> 3
<END OF METADATA>

~ init term cap len fft b power speed toll type ;
1 3 10 1 2 0.15 4 0 0 1 ;
3 2 10 1 3 0.15 4 0 0 1 ;   ~ trailing comment
1 2 5 1 9 0.15 4 0 0 1 ;
"""

TRIPS = """<NUMBER OF ZONES> 2
<TOTAL OD FLOW> 7.0
<END OF METADATA>
~ comment line
Origin 1
    1 : 0.0;  2 : 7.0;
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_small_net_and_trips(tmp_path):
    net = read_tntp_net(write(tmp_path, "n.tntp", NET))
    assert (net.num_zones, net.num_nodes, net.first_thru_node, net.num_links) == (2, 3, 3, 3)
    np.testing.assert_array_equal(net.init_node, [1, 3, 1])
    np.testing.assert_allclose(net.free_flow_time, [2, 3, 9])
    trips = read_tntp_trips(write(tmp_path, "t.tntp", TRIPS))
    assert trips == {(1, 2): 7.0}


@pytest.mark.parametrize(
    "text, fragment",
    [
        (NET.replace("<NUMBER OF LINKS> 3", "<NUMBER OF LINKS> 4"), "NUMBER OF LINKS"),
        (NET.replace("3 2 10 1 3", "3 2 ten 1 3"), ":9: capacity is not a number"),
        (NET.replace("3 2 10 1 3", "3 9 10 1 3"), ":9: term_node 9 outside"),
        (NET.replace("3 2 10 1 3", "3 2 0 1 3"), ":9: capacity must be > 0"),
        (NET.replace("1 2 5 1 9", "1 3 5 1 9"), ":10: duplicate link 1->3"),
        (NET.replace("<END OF METADATA>", ""), "expected a <KEY> value metadata line"),
        (NET.replace("<NUMBER OF NODES> 3\n", ""), "<NUMBER OF NODES> missing"),
    ],
)
def test_malformed_net_names_file_and_line(tmp_path, text, fragment):
    p = write(tmp_path, "bad_net.tntp", text)
    with pytest.raises(InvalidInputError, match="bad_net.tntp") as info:
        read_tntp_net(p)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "text, fragment",
    [
        (TRIPS.replace("7.0;", "-7.0;"), ":6: demand 1->2 is negative"),
        (TRIPS.replace("<TOTAL OD FLOW> 7.0", "<TOTAL OD FLOW> 8.0"), "entries sum to 7.0"),
        (TRIPS.replace("Origin 1", ""), ":6: demand entries before any 'Origin'"),
        (TRIPS.replace("2 : 7.0", "2 - 7.0"), "expected 'dest : demand'"),
        (TRIPS.replace("2 : 7.0", "5 : 7.0"), "destination 5 outside"),
    ],
)
def test_malformed_trips_names_file_and_line(tmp_path, text, fragment):
    p = write(tmp_path, "bad_trips.tntp", text)
    with pytest.raises(InvalidInputError, match="bad_trips.tntp") as info:
        read_tntp_trips(p)
    assert fragment in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_tntp_net(tmp_path / "absent.tntp")


@needs_tntp
@pytest.mark.parametrize("name, links, pairs, total, first_thru", [
    ("Braess", 5, 1, 6.0, 1), ("SiouxFalls", 76, 528, 360600.0, 1), ("Anaheim", 914, 1406, 104694.4, 39)])
def test_validation_files(name, links, pairs, total, first_thru):
    net = read_tntp_net(TNTP / f"{name}_net.tntp")
    trips = read_tntp_trips(TNTP / f"{name}_trips.tntp")
    assert net.num_links == links and net.first_thru_node == first_thru
    assert len(trips) == pairs
    assert sum(trips.values()) == pytest.approx(total, rel=1e-9)


@needs_tntp
def test_flow_file():
    flows = read_tntp_flows(TNTP / "SiouxFalls_flow.tntp")
    assert len(flows) == 76
    assert flows[(1, 2)][0] == pytest.approx(4494.6576464564205)
