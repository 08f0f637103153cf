"""Routing problems for tests, and the checks every routing result must pass."""

from __future__ import annotations

import numpy as np
import pytest

from routing import (
    GeoRoutingProblem,
    RoutingProblem,
    RoutingResult,
    Shipment,
    Vehicle,
    verify_route,
)
from routing.feasibility import alone_feasibility
from routing.insertion import insert_greedy, insertion_order


def random_problem(
    seed: int,
    shipments: int = 8,
    vehicles: int = 2,
    stop_time: float = 2.0,
    required: bool = False,
) -> RoutingProblem:
    """A random Jessr-like problem on a 50×50 km square, shifts of 4 hours.

    Pickups share a few depots (supplies) so consecutive same-place stops
    occur; windows are random, some tight; loads sometimes exceed capacity.
    """
    rng = np.random.default_rng(seed)
    n_sup = max(2, shipments // 3)
    xy = rng.uniform(0, 50, size=(vehicles + n_sup + shipments, 2))
    homes = list(range(vehicles))
    supplies = list(range(vehicles, vehicles + n_sup))
    vehs = [
        Vehicle(
            id=f"V{i}",
            start=homes[i],
            end=homes[i],
            capacity=float(rng.choice([30.0, 60.0, 100.0])),
            shift=(480.0, 480.0 + float(rng.choice([120.0, 240.0]))),
            speed=float(rng.choice([0.5, 0.75])),  # km per minute
        )
        for i in range(vehicles)
    ]
    ships = []
    for k in range(shipments):
        open_ = 480.0 + float(rng.uniform(0, 180))
        wide = bool(rng.random() < 0.5)
        units = int(rng.integers(1, 4))
        ships.append(
            Shipment(
                id=f"A{k}",
                pickup=int(rng.choice(supplies)),
                delivery=vehicles + n_sup + k,
                load=15.0 * units,
                value=float(rng.choice([1.0, 2.0, 4.0, 8.0, 16.0])) * units,
                pickup_service=0.5 * units,
                delivery_service=0.5 * units,
                delivery_window=(480.0, 720.0) if wide else (open_, open_ + 60.0),
                required=required,
            )
        )
    return RoutingProblem.from_euclidean(xy, vehs, ships, stop_time=stop_time)


def geo_problem(
    seed: int, shipments: int = 300, vehicles: int = 30, depots: int = 30
) -> GeoRoutingProblem:
    """A random Jessr-like day over northern Tunisia (~300 × 270 km).

    Deliveries lie ~20 km around their depot (as matching's distance cap
    makes them); vehicles are 40 km/h cars and vans with 4-6 hour shifts.
    """
    rng = np.random.default_rng(seed)
    n = vehicles + depots + shipments
    lat = rng.uniform(34.5, 37.0, n)
    lon = rng.uniform(8.5, 11.0, n)
    vehs = [
        Vehicle(
            id=f"V{i}",
            start=i,
            end=i,
            capacity=float(rng.choice([100.0, 400.0])),
            shift=(480.0, 480.0 + float(rng.choice([240.0, 360.0]))),
            speed=40 / 60,
        )
        for i in range(vehicles)
    ]
    ships = []
    for k in range(shipments):
        depot = vehicles + int(rng.integers(depots))
        home = vehicles + depots + k
        lat[home] = np.clip(lat[depot] + rng.normal(0, 0.15), -90, 90)
        lon[home] = lon[depot] + rng.normal(0, 0.15)
        units = int(rng.integers(1, 4))
        ships.append(
            Shipment(
                id=f"A{k}",
                pickup=depot,
                delivery=home,
                load=15.0 * units,
                value=float(rng.choice([1.0, 2.0, 4.0, 8.0, 16.0])) * units,
                pickup_service=0.5 * units,
                delivery_service=0.5 * units,
                delivery_window=(540.0, 1020.0),
            )
        )
    return GeoRoutingProblem(lat, lon, 1.3, vehs, ships, stop_time=5.0)


def assert_valid(problem: RoutingProblem | GeoRoutingProblem, result: RoutingResult) -> set[str]:
    """Every route valid (a geographic problem's on its full matrix, in the
    caller's location indices); every shipment carried once or dropped once;
    the delivered value is the carried shipments'. Returns the carried ids."""
    full = problem.to_problem() if isinstance(problem, GeoRoutingProblem) else problem
    carried: list[str] = []
    for route in result.routes:
        assert verify_route(full, route) is None
        carried += [s for stop in route.stops for s in stop.deliveries]
    dropped = [d.shipment for d in result.dropped]
    assert sorted(carried + dropped) == sorted(s.id for s in problem.shipments)
    value = sum(problem.shipments[problem.shipment_index(s)].value for s in carried)
    assert result.metrics.delivered_value == pytest.approx(value)
    return set(carried)


def insertion_value(problem: RoutingProblem) -> float:
    """Delivered value of the plain greedy insertion (the baseline to beat)."""
    feasible, reasons = alone_feasibility(problem)
    routes: dict[int, list[int]] = {}
    active = [k for k, r in enumerate(reasons) if r is None]
    insert_greedy(problem, routes, insertion_order(problem, active), feasible)
    return sum(problem.shipments[c >> 1].value for n in routes.values() for c in n if c & 1)
