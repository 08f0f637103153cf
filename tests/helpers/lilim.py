"""Tiny Li & Lim PDPTW reader for routing tests and measurements only.

(The benchmark runner's real readers live in ``bench/``.) Format:
first line ``K Q speed``; then ``id x y demand ready due service pickup_sibling
delivery_sibling``; node 0 is the depot; Euclidean double distances, travel
time = distance.
"""

from __future__ import annotations

from pathlib import Path

from routing import RoutingProblem, Shipment, Vehicle
from tests.helpers.benchdata import bench_dir

_ROOT = bench_dir()
BENCH = _ROOT / "pdptw" if _ROOT else Path("/nonexistent/benchmarks/pdptw")


def read_lilim(path: Path, fixed_cost: float = 10_000.0) -> RoutingProblem:
    """Li & Lim instance → problem; every shipment required, fleet ``K``.

    ``fixed_cost`` per vehicle far above any route length makes the solver
    minimise vehicles first, then distance (the BKS objective).
    """
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    k_veh, cap = int(lines[0][0]), float(lines[0][1])
    rows = [[float(x) for x in ln] for ln in lines[1:]]
    xy = [(r[1], r[2]) for r in rows]
    horizon = rows[0][5]
    ships = []
    for r in rows:
        node, demand, delivery = int(r[0]), r[3], int(r[8])
        if node == 0 or delivery == 0:
            continue
        d = rows[delivery]
        ships.append(
            Shipment(
                id=str(node),
                pickup=node,
                delivery=delivery,
                load=demand,
                pickup_service=r[6],
                delivery_service=d[6],
                pickup_window=(r[4], r[5]),
                delivery_window=(d[4], d[5]),
                required=True,
            )
        )
    vehicles = [
        Vehicle(
            id=f"v{i}", start=0, end=0, capacity=cap, shift=(0.0, horizon), fixed_cost=fixed_cost
        )
        for i in range(k_veh)
    ]
    return RoutingProblem.from_euclidean(xy, vehicles, ships)


def bks(name: str) -> tuple[int, float]:
    """(vehicles, distance) of the best known solution."""
    for line in (BENCH / "bks_lilim.csv").read_text().splitlines()[1:]:
        parts = line.split(",")
        if parts[0] == name:
            return int(parts[2]), float(parts[3])
    raise KeyError(name)
