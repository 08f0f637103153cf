"""Readers for the public routing benchmarks into one neutral, frozen :class:`Instance`.

Three families are read (formats in ``shared/benchmarks/README.md``):

* ``lilim``   — Li & Lim PDPTW ``.txt`` (first line ``K Q speed``, one line per node with
  pickup/delivery siblings);
* ``solomon`` — Solomon VRPTW ``.txt`` (CRLF, ``VEHICLE``/``CUSTOMER`` headers);
* ``x``       — CVRPLIB X ``.vrp`` (TSPLIB sections, ``EUC_2D``).

Node numbering is the instance's own: node 0 is the depot. For X the ``.vrp`` numbers
nodes from 1 with the depot at 1; we shift by one so the depot is 0 and customer ``i``
is the ``.sol`` file's customer ``i`` (CVRPLIB solution files use that numbering).

The family's distance convention is part of the instance: exact double Euclidean for
Li & Lim and Solomon, TSPLIB ``nint`` for X. Every consumer (checker, peers) takes the
matrix from :func:`distance_matrix` so nobody re-derives it differently.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np

Family = Literal["lilim", "solomon", "x"]
Rounding = Literal["exact", "nint"]

# Where each family's BKS table sits relative to an instance file: the shared layout is
# ``<bench>/pdptw/lilim_100/lc101.txt`` next to ``<bench>/pdptw/bks_lilim.csv``; we look in
# the file's folder and up to three parents so a copied sub-tree still finds its table.
_BKS_FILES: dict[str, str] = {
    "lilim": "bks_lilim.csv",
    "solomon": "bks_solomon.csv",
    "x": "bks_x.csv",
}


class InstanceError(ValueError):
    """A file that cannot be read as a benchmark instance (message names file and cause)."""


@dataclass(frozen=True, slots=True)
class Instance:
    """One benchmark instance, family-neutral.

    Per-node tuples are indexed by node number (0 = depot). ``windows`` is ``None`` for
    families without time windows (X); ``pairs`` is empty unless the family is paired
    (Li & Lim), where ``demands`` are positive at pickups and negative at deliveries.
    """

    name: str
    family: Family
    coords: tuple[tuple[float, float], ...]
    demands: tuple[int, ...]
    windows: tuple[tuple[float, float], ...] | None
    service: tuple[float, ...]
    pairs: tuple[tuple[int, int], ...]  # (pickup node, delivery node)
    capacity: int
    max_vehicles: int | None  # None: fleet unbounded (X)
    rounding: Rounding
    bks_vehicles: int | None = None
    bks_distance: float | None = None
    path: str = ""

    @property
    def n_nodes(self) -> int:
        """Number of nodes including the depot."""
        return len(self.coords)

    @property
    def customers(self) -> range:
        """Node numbers that must be visited (every node but the depot)."""
        return range(1, self.n_nodes)

    @property
    def horizon(self) -> float:
        """The depot's due time (the latest return), or infinity without windows."""
        return math.inf if self.windows is None else self.windows[0][1]

    def suggested_fleet(self) -> int:
        """Vehicles to offer a solver: the instance's K, or a generous bound for X.

        X has an unbounded fleet; solvers still need a number. The lower bound
        ``ceil(total demand / Q)`` is what the ``-k`` suffix encodes; BKS use k or k+1
        routes, so k + max(3, 20 %) leaves room without making every peer's model huge.
        """
        if self.max_vehicles is not None:
            return self.max_vehicles
        k_min = math.ceil(sum(self.demands) / self.capacity)
        return k_min + max(3, math.ceil(0.2 * k_min))


def distance_matrix(instance: Instance) -> np.ndarray:
    """The n×n distance matrix in the family's convention (float64)."""
    return _matrix(instance.coords, instance.rounding)


@cache
def _matrix(coords: tuple[tuple[float, float], ...], rounding: Rounding) -> np.ndarray:
    xy = np.asarray(coords, dtype=np.float64)
    diff = xy[:, None, :] - xy[None, :, :]
    # sqrt(dx²+dy²) like every reference evaluator; np.hypot can differ in the last ulp,
    # and the BKS distances are tabulated to 4 decimals so either would do, but keep it plain.
    dist = np.sqrt((diff**2).sum(axis=2))
    if rounding == "nint":
        dist = np.floor(dist + 0.5)  # TSPLIB nint: round half up, not numpy's half-to-even
    dist.setflags(write=False)  # cached and shared: nobody may mutate it
    return dist


def detect_family(path: Path) -> Family:
    """Guess the family from the extension and the first lines of the file."""
    if path.suffix.lower() == ".vrp":
        return "x"
    head = path.read_text(errors="replace").lstrip().splitlines()[:10]
    if not head:
        raise InstanceError(f"{path}: empty file")
    text = "\n".join(head).upper()
    if "VEHICLE" in text or "CUSTOMER" in text:
        return "solomon"
    if "NODE_COORD_SECTION" in text or "EDGE_WEIGHT_TYPE" in text:
        return "x"
    if len(head[0].split()) == 3 and all(_is_number(t) for t in head[0].split()):
        return "lilim"
    raise InstanceError(f"{path}: not a Li & Lim, Solomon or CVRPLIB X instance")


def read_instance(path: str | Path, family: Family | None = None) -> Instance:
    """Read one instance file (family auto-detected), with BKS values when a table is found."""
    p = Path(path)
    if not p.is_file():
        raise InstanceError(f"{p}: no such file")
    fam = family or detect_family(p)
    try:
        if fam == "lilim":
            inst = _read_lilim(p)
        elif fam == "solomon":
            inst = _read_solomon(p)
        else:
            inst = _read_x(p)
    except (ValueError, IndexError) as exc:
        if isinstance(exc, InstanceError):
            raise
        raise InstanceError(f"{p}: cannot parse as {fam}: {exc}") from exc
    bks = find_bks(p, fam, inst.name)
    if bks is None:
        return inst
    return _replace_bks(inst, *bks)


def _replace_bks(inst: Instance, vehicles: int | None, distance: float | None) -> Instance:
    return replace(inst, bks_vehicles=vehicles, bks_distance=distance)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_lilim(path: Path) -> Instance:
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    k, q, _speed = (float(t) for t in lines[0])
    rows = [[float(t) for t in ln] for ln in lines[1:]]
    if len(rows) < 3 or len(rows[0]) < 9:
        raise InstanceError(f"{path}: expected node lines with 9 columns")
    rows.sort(key=lambda r: r[0])
    if [int(r[0]) for r in rows] != list(range(len(rows))):
        raise InstanceError(f"{path}: node ids must be 0..n-1")
    pairs = []
    for r in rows[1:]:
        node, pick_sib, deliv_sib = int(r[0]), int(r[7]), int(r[8])
        if pick_sib == 0 and deliv_sib > 0:  # a pickup names its delivery
            pairs.append((node, deliv_sib))
            if int(rows[deliv_sib][7]) != node:
                raise InstanceError(f"{path}: node {deliv_sib} does not point back to {node}")
    return Instance(
        name=path.stem,
        family="lilim",
        coords=tuple((r[1], r[2]) for r in rows),
        demands=tuple(int(r[3]) for r in rows),
        windows=tuple((r[4], r[5]) for r in rows),
        service=tuple(r[6] for r in rows),
        pairs=tuple(pairs),
        capacity=int(q),
        max_vehicles=int(k),
        rounding="exact",
        path=str(path),
    )


def _read_solomon(path: Path) -> Instance:
    lines = [ln.strip() for ln in path.read_text().splitlines()]  # splitlines eats the CR
    name = next((ln for ln in lines if ln), path.stem)
    k = q = None
    rows: list[list[float]] = []
    for i, ln in enumerate(lines):
        up = ln.upper()
        if up.startswith("NUMBER") and "CAPACITY" in up:
            k, q = (int(t) for t in lines[i + 1].split()[:2])
        toks = ln.split()
        if len(toks) == 7 and all(_is_number(t) for t in toks):
            rows.append([float(t) for t in toks])
    if k is None or q is None or not rows:
        raise InstanceError(f"{path}: missing VEHICLE NUMBER/CAPACITY or customer lines")
    rows.sort(key=lambda r: r[0])
    if [int(r[0]) for r in rows] != list(range(len(rows))):
        raise InstanceError(f"{path}: customer numbers must be 0..n-1")
    return Instance(
        name=name,
        family="solomon",
        coords=tuple((r[1], r[2]) for r in rows),
        demands=tuple(int(r[3]) for r in rows),
        windows=tuple((r[4], r[5]) for r in rows),
        service=tuple(r[6] for r in rows),
        pairs=(),
        capacity=q,
        max_vehicles=k,
        rounding="exact",
        path=str(path),
    )


def _read_x(path: Path) -> Instance:
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in path.read_text().splitlines():
        ln = raw.strip()
        if not ln or ln == "EOF":
            continue
        if ":" in ln and not ln[0].isdigit() and not ln.startswith("-"):
            key, _, value = ln.partition(":")
            header[key.strip().upper()] = value.strip().strip('"')
            current = None
        elif ln.upper().endswith("_SECTION"):
            current = ln.upper()
            sections[current] = []
        elif current is not None:
            sections[current].append(ln.split())
    if header.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
        raise InstanceError(f"{path}: only EDGE_WEIGHT_TYPE EUC_2D is supported")
    coords_raw = sections.get("NODE_COORD_SECTION")
    demand_raw = sections.get("DEMAND_SECTION")
    if not coords_raw or not demand_raw or "CAPACITY" not in header:
        raise InstanceError(f"{path}: needs CAPACITY, NODE_COORD_SECTION and DEMAND_SECTION")
    ids = [int(r[0]) for r in coords_raw]
    if ids != list(range(1, len(ids) + 1)):
        raise InstanceError(f"{path}: node ids must be 1..n")
    depots = [int(r[0]) for r in sections.get("DEPOT_SECTION", [["1"]]) if int(r[0]) != -1]
    if depots != [1]:
        # Every X instance has depot 1; a different depot would break the .sol numbering.
        raise InstanceError(f"{path}: only a single depot at node 1 is supported, got {depots}")
    demand = {int(r[0]): int(r[1]) for r in demand_raw}
    return Instance(
        name=header.get("NAME", path.stem),
        family="x",
        coords=tuple((float(r[1]), float(r[2])) for r in coords_raw),
        demands=tuple(demand.get(i, 0) for i in ids),
        windows=None,
        service=tuple(0.0 for _ in ids),
        pairs=(),
        capacity=int(header["CAPACITY"]),
        max_vehicles=None,
        rounding="nint",
        path=str(path),
    )


# --- BKS tables -------------------------------------------------------------------------


def read_bks_table(path: str | Path) -> dict[str, tuple[int | None, float | None]]:
    """Read one BKS CSV into ``{instance name: (vehicles, distance)}``.

    Handles the three shared headers: ``bks_vehicles``/``bks_distance`` (Li & Lim,
    Solomon) and ``bks_routes``/``bks_cost`` (X). Names are keyed as written and
    case-folded so ``r101`` finds ``R101``.
    """
    out: dict[str, tuple[int | None, float | None]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            veh = row.get("bks_vehicles") or row.get("bks_routes")
            dist = row.get("bks_distance") or row.get("bks_cost")
            out[row["instance"].strip().casefold()] = (
                int(veh) if veh else None,
                float(dist) if dist else None,
            )
    return out


def find_bks(path: Path, family: Family, name: str) -> tuple[int | None, float | None] | None:
    """BKS (vehicles, distance) for an instance, from the family's table near the file."""
    table = _find_table(path.resolve().parent, _BKS_FILES[family])
    if table is None:
        return None
    rows = _cached_table(str(table))
    return rows.get(name.casefold()) or rows.get(path.stem.casefold())


def _find_table(folder: Path, filename: str) -> Path | None:
    for candidate in [folder, *list(folder.parents)[:3]]:
        if (candidate / filename).is_file():
            return candidate / filename
    return None


@cache
def _cached_table(path: str) -> dict[str, tuple[int | None, float | None]]:
    return read_bks_table(path)


# --- solution files ---------------------------------------------------------------------

_ROUTE_RE = re.compile(r"^\s*Route\s*#?\s*\d+\s*:(.*)$", re.IGNORECASE)
_COST_RE = re.compile(r"^\s*Cost\s+([-+0-9.eE]+)", re.IGNORECASE)


def read_solution(path: str | Path) -> tuple[list[list[int]], float | None]:
    """Read a route file: SINTEF ``Route 1 : 5 3 7`` or CVRPLIB ``Route #1: 5 3 7``.

    Returns the routes (instance node numbers, depot excluded) and the ``Cost`` line
    if the file has one (CVRPLIB); SINTEF files encode the distance in the file name
    (``lc101.10_828.9369.txt``), which :func:`solution_name_distance` parses.
    """
    routes: list[list[int]] = []
    cost: float | None = None
    for ln in Path(path).read_text().splitlines():
        if m := _ROUTE_RE.match(ln):
            nodes = [int(t) for t in m.group(1).split()]
            if nodes:
                routes.append(nodes)
        elif m := _COST_RE.match(ln):
            cost = float(m.group(1))
    return routes, cost


def solution_name_distance(path: str | Path) -> tuple[str, int, float] | None:
    """Parse ``<name>.<vehicles>_<distance>.txt`` (SINTEF BKS files) if it has that shape."""
    m = re.match(r"^(.+)\.(\d+)_([0-9.]+)\.txt$", Path(path).name)
    if m is None:
        return None
    return m.group(1), int(m.group(2)), float(m.group(3))
