"""TNTP traffic-assignment files (bstabler/TransportationNetworks format): net, trips and flow files.

Net file: ``<KEY> value`` metadata lines up to ``<END OF METADATA>``, then one link per line
``init term capacity length free_flow_time b power speed toll type ;`` with ``~`` starting a comment.
Link time is BPR: ``t = free_flow_time * (1 + b (x / capacity)^power)``. Nodes numbered below
``<FIRST THRU NODE>`` are zones that paths may start or end at but never pass through.

Trips file: metadata, then blocks ``Origin o`` followed by ``dest : demand;`` pairs.
Flow file: a header line ``From To Volume Cost`` then one line per link.

Malformed input raises :class:`~gametheory.errors.InvalidInputError` naming the file and line.

References
----------
.. [1] Transportation Networks for Research Core Team, *Transportation Networks for Research*,
   github.com/bstabler/TransportationNetworks (the TNTP file format and the networks in it).
.. [2] Bureau of Public Roads, *Traffic Assignment Manual*, U.S. Department of Commerce, 1964 (the link
   time function).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gametheory._validate import path as check_path
from gametheory.errors import InvalidInputError

__all__ = ["TntpNetwork", "read_tntp_flows", "read_tntp_net", "read_tntp_trips"]

_META = re.compile(r"^<([^>]+)>\s*(.*)$")


@dataclass(frozen=True)
class TntpNetwork:
    """Links of a TNTP net file as parallel numpy arrays (one entry per link, file order).

    Parameters
    ----------
    num_zones : int
        ``<NUMBER OF ZONES>``: nodes 1..num_zones are zones (origins and destinations).
    num_nodes : int
        ``<NUMBER OF NODES>``.
    first_thru_node : int
        ``<FIRST THRU NODE>`` (1 when absent): nodes below it may start or end paths but not be passed through.
    init_node, term_node : numpy.ndarray
        Tail and head node of each link (int, 1-based), shape (num_links,).
    capacity : numpy.ndarray
        Link capacity in the file's flow unit (e.g. vehicles/h), > 0.
    length : numpy.ndarray
        Link length (the file's distance unit).
    free_flow_time : numpy.ndarray
        Free-flow time t0 in the file's time unit (minutes for the usual networks), >= 0.
    b : numpy.ndarray
        BPR multiplier (0.15 for Sioux Falls), >= 0.
    power : numpy.ndarray
        BPR power (4 for Sioux Falls), >= 0.
    toll : numpy.ndarray
        Link toll (the file's unit; 0 when absent).
    link_type : numpy.ndarray
        Link type code (int; 0 when absent).
    """

    num_zones: int
    num_nodes: int
    first_thru_node: int
    init_node: np.ndarray
    term_node: np.ndarray
    capacity: np.ndarray
    length: np.ndarray
    free_flow_time: np.ndarray
    b: np.ndarray
    power: np.ndarray
    toll: np.ndarray
    link_type: np.ndarray

    @property
    def num_links(self) -> int:
        """The number of links (length of every array)."""
        return int(self.init_node.size)


def _strip(line: str) -> str:
    """Drop a ``~`` comment and surrounding whitespace."""
    return line.split("~", 1)[0].strip()


def _read_metadata(path: Path) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """Split a TNTP file into its metadata dict and the numbered body lines after ``<END OF METADATA>``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read TNTP file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
                                f"{exc.start}); a TNTP file is plain text") from None
    meta: dict[str, str] = {}
    for i, raw in enumerate(lines):
        line = _strip(raw)
        if not line:
            continue
        m = _META.match(line)
        if m is None:
            raise InvalidInputError(f"{path}:{i + 1}: expected a <KEY> value metadata line, got {raw.strip()!r}")
        key = m.group(1).strip().upper()
        if key == "END OF METADATA":
            return meta, [(j + 1, lines[j]) for j in range(i + 1, len(lines))]
        meta[key] = m.group(2).strip()
    raise InvalidInputError(f"{path}: no <END OF METADATA> line")


def _meta_int(meta: dict[str, str], key: str, path: Path, default: int | None = None) -> int:
    if key not in meta:
        if default is not None:
            return default
        raise InvalidInputError(f"{path}: metadata <{key}> missing")
    try:
        value = float(meta[key])
    except ValueError as exc:
        raise InvalidInputError(f"{path}: metadata <{key}> is not a number: {meta[key]!r}") from exc
    if not (math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_COUNT):
        raise InvalidInputError(f"{path}: metadata <{key}> must be a whole number in 0..{MAX_COUNT:,}, "
                                f"got {meta[key]!r}")
    return int(value)


#: largest node, zone or link count a TNTP file may declare
MAX_COUNT = 10_000_000


def _node(value: float, path: Path, lineno: int, what: str, top: int) -> int:
    """A node number: a whole number in 1..top (never truncated)."""
    if not value.is_integer():
        raise InvalidInputError(f"{path}:{lineno}: {what} {value:g} is not a whole node number")
    if not 1 <= value <= top:
        raise InvalidInputError(f"{path}:{lineno}: {what} {value:g} outside 1..{top}")
    return int(value)


def _number(token: str, path: Path, lineno: int, what: str) -> float:
    try:
        value = float(token)
    except ValueError as exc:
        raise InvalidInputError(f"{path}:{lineno}: {what} is not a number: {token!r}") from exc
    if not math.isfinite(value):
        raise InvalidInputError(f"{path}:{lineno}: {what} is not finite: {token!r}")
    return value


def read_tntp_net(path) -> TntpNetwork:
    """Read a TNTP ``*_net.tntp`` file.

    Link time is BPR: ``t = free_flow_time * (1 + b (x / capacity)^power)``; the speed column is read and
    checked but not kept.

    Parameters
    ----------
    path : str or os.PathLike
        The file (UTF-8 or ASCII text).

    Returns
    -------
    TntpNetwork
        The metadata counts and one array entry per link line, in file order.

    Raises
    ------
    InvalidInputError
        Naming the file and line: an unreadable or non-UTF-8 file; a metadata line that is not ``<KEY> value``,
        no ``<END OF METADATA>``, a missing or non-integral count; a link line with fewer than 7 fields, a
        non-numeric or non-finite field, a node outside 1..num_nodes, a capacity <= 0, a negative free-flow time,
        b or power, a duplicate link; a link count that differs from ``<NUMBER OF LINKS>``.
    """
    path = check_path(path)
    meta, body = _read_metadata(path)
    num_zones = _meta_int(meta, "NUMBER OF ZONES", path)
    num_nodes = _meta_int(meta, "NUMBER OF NODES", path)
    num_links = _meta_int(meta, "NUMBER OF LINKS", path)
    first_thru = _meta_int(meta, "FIRST THRU NODE", path, default=1)
    cols: list[list[float]] = []
    seen: dict[tuple[int, int], int] = {}
    for lineno, raw in body:
        line = _strip(raw).rstrip(";").strip()
        if not line:
            continue
        tokens = line.replace(";", " ").split()
        if len(tokens) < 7:
            raise InvalidInputError(f"{path}:{lineno}: link line needs at least 7 fields, got {len(tokens)}")
        names = ("init_node", "term_node", "capacity", "length", "free_flow_time", "b", "power", "speed", "toll",
                 "link_type")
        row = [_number(tok, path, lineno, name) for tok, name in zip(tokens, names, strict=False)]
        row += [0.0] * (10 - len(row))
        u, v = _node(row[0], path, lineno, "init_node", num_nodes), _node(row[1], path, lineno, "term_node", num_nodes)
        if row[2] <= 0:
            raise InvalidInputError(f"{path}:{lineno}: capacity must be > 0, got {row[2]}")
        if row[4] < 0 or row[5] < 0 or row[6] < 0:
            raise InvalidInputError(f"{path}:{lineno}: free_flow_time, b and power must be >= 0")
        if (u, v) in seen:
            raise InvalidInputError(f"{path}:{lineno}: duplicate link {u}->{v} (first on line {seen[(u, v)]})")
        seen[(u, v)] = lineno
        cols.append(row)
    if len(cols) != num_links:
        raise InvalidInputError(f"{path}: <NUMBER OF LINKS> says {num_links}, file has {len(cols)} link lines")
    a = np.array(cols, dtype=float).reshape(-1, 10)
    return TntpNetwork(
        num_zones=num_zones, num_nodes=num_nodes, first_thru_node=first_thru,
        init_node=a[:, 0].astype(int), term_node=a[:, 1].astype(int), capacity=a[:, 2], length=a[:, 3],
        free_flow_time=a[:, 4], b=a[:, 5], power=a[:, 6], toll=a[:, 8], link_type=a[:, 9].astype(int),
    )


def read_tntp_trips(path) -> dict[tuple[int, int], float]:
    """Read a TNTP ``*_trips.tntp`` file into ``{(origin, destination): demand}`` (zero and o == d dropped).

    Checks ``<TOTAL OD FLOW>`` against the sum of the entries (relative tolerance 1e-6) when present.

    Parameters
    ----------
    path : str or os.PathLike
        The file (UTF-8 or ASCII text).

    Returns
    -------
    dict
        (origin zone, destination zone) -> demand (the file's flow unit, e.g. trips/h), positive entries only;
        repeated pairs are summed.

    Raises
    ------
    InvalidInputError
        Naming the file and line: an unreadable or non-UTF-8 file, bad metadata, an ``Origin`` line without one
        zone, entries before any ``Origin``, an entry that is not ``dest : demand``, a zone outside
        1..num_zones, a non-numeric or negative demand, or a ``<TOTAL OD FLOW>`` the entries do not sum to.
    """
    path = check_path(path)
    meta, body = _read_metadata(path)
    num_zones = _meta_int(meta, "NUMBER OF ZONES", path)
    demands: dict[tuple[int, int], float] = {}
    origin: int | None = None
    total = 0.0
    for lineno, raw in body:
        line = _strip(raw)
        if not line:
            continue
        if line.lower().startswith("origin"):
            parts = line.split()
            if len(parts) != 2:
                raise InvalidInputError(f"{path}:{lineno}: expected 'Origin <zone>', got {line!r}")
            origin = _node(_number(parts[1], path, lineno, "origin"), path, lineno, "origin", num_zones)
            continue
        if origin is None:
            raise InvalidInputError(f"{path}:{lineno}: demand entries before any 'Origin' line")
        for entry in line.split(";"):
            entry = entry.strip()
            if not entry:
                continue
            parts = entry.split(":")
            if len(parts) != 2:
                raise InvalidInputError(f"{path}:{lineno}: expected 'dest : demand', got {entry!r}")
            dest = _node(_number(parts[0].strip(), path, lineno, "destination"), path, lineno, "destination",
                         num_zones)
            value = _number(parts[1].strip(), path, lineno, f"demand {origin}->{dest}")
            if value < 0:
                raise InvalidInputError(f"{path}:{lineno}: demand {origin}->{dest} is negative ({value})")
            total += value
            if value > 0 and dest != origin:
                demands[(origin, dest)] = demands.get((origin, dest), 0.0) + value
    if "TOTAL OD FLOW" in meta:
        stated = _number(meta["TOTAL OD FLOW"], path, 0, "<TOTAL OD FLOW>")
        if abs(stated - total) > 1e-6 * max(1.0, abs(stated)):
            raise InvalidInputError(f"{path}: <TOTAL OD FLOW> says {stated}, entries sum to {total}")
    return demands


def read_tntp_flows(path) -> dict[tuple[int, int], tuple[float, float | None]]:
    """Read a TNTP ``*_flow.tntp`` file (published equilibrium flows) into ``{(from, to): (volume, cost)}``.

    Parameters
    ----------
    path : str or os.PathLike
        The file (UTF-8 or ASCII text).

    Returns
    -------
    dict
        (from node, to node) -> (volume in the file's flow unit, cost in its time unit, or None when the line
        has no cost column).

    Raises
    ------
    InvalidInputError
        Naming the file and line: an unreadable or non-UTF-8 file, a line with fewer than 3 fields, a
        non-numeric or non-finite field, a node number that is not a whole number >= 1, or no flow lines at all.
    """
    path = check_path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read TNTP flow file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
                                f"{exc.start}); a TNTP file is plain text") from None
    flows: dict[tuple[int, int], tuple[float, float]] = {}
    for lineno, raw in enumerate(lines, start=1):
        line = _strip(raw).rstrip(";").strip()
        if not line or line.lower().startswith("from"):
            continue
        tokens = line.split()
        if len(tokens) < 3:
            raise InvalidInputError(f"{path}:{lineno}: flow line needs 'from to volume [cost]', got {line!r}")
        u = _node(_number(tokens[0], path, lineno, "from"), path, lineno, "from", MAX_COUNT)
        v = _node(_number(tokens[1], path, lineno, "to"), path, lineno, "to", MAX_COUNT)
        vol = _number(tokens[2], path, lineno, "volume")
        cost = _number(tokens[3], path, lineno, "cost") if len(tokens) > 3 else None
        flows[(u, v)] = (vol, cost)
    if not flows:
        raise InvalidInputError(f"{path}: no flow lines")
    return flows
