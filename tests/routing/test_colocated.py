"""A pickup and a delivery at one place: one location index, or two 0 km apart.

Consecutive nodes at one location are one stop, and a stop unloads before it
loads; so a shipment picked up and delivered at the same location index can't
be served, while the same place as two locations at distance 0 is two stops,
each with its stop time.
"""

from __future__ import annotations

import numpy as np
import pytest

import routing
from routing import RoutingProblem, Shipment, Vehicle, check_route
from routing.evaluate import delivery, pickup
from routing.feasibility import alone_feasibility


def place_problem(delivery_at: int) -> RoutingProblem:
    """Home at 0; locations 1 and 2 are the same point, 10 km away."""
    xy = np.array([(0.0, 0.0), (10.0, 0.0), (10.0, 0.0)])
    veh = Vehicle("V", 0, 0, 10.0, (0.0, 100.0), speed=1.0)
    ship = Shipment("A", 1, delivery_at, 4.0, pickup_service=1.0, delivery_service=2.0)
    return RoutingProblem.from_euclidean(xy, (veh,), (ship,), stop_time=5.0)


def test_one_location_index_is_one_stop_and_cannot_serve_the_pair() -> None:
    p = place_problem(delivery_at=1)
    chk = check_route(p, 0, [pickup(0), delivery(0)])
    assert not chk.feasible and "before its pickup" in (chk.error or "")
    feasible, reasons = alone_feasibility(p)
    assert not feasible.any() and reasons == ["unreachable"]


def test_two_locations_zero_km_apart_are_two_stops() -> None:
    p = place_problem(delivery_at=2)
    assert p.distance[1, 2] == 0.0
    chk = check_route(p, 0, [pickup(0), delivery(0)])
    assert chk.feasible
    assert [(s.location, s.pickups, s.deliveries) for s in chk.stops] == [
        (1, ("A",), ()),
        (2, (), ("A",)),
    ]
    # 10 km out; stop 5 + pickup 1; 0 km on; stop 5 + delivery 2; 10 km home.
    assert [s.arrival for s in chk.stops] == [10.0, 16.0]
    assert chk.duration == pytest.approx(33.0) and chk.distance == pytest.approx(20.0)
    feasible, reasons = alone_feasibility(p)
    assert feasible.all() and reasons == [None]


@pytest.mark.parametrize("backend", ["vroom", "pyvrp", "ortools"])
def test_each_backend_serves_the_pair_at_one_place(backend: str) -> None:
    p = place_problem(delivery_at=2)
    params = routing.SolveParams(backends=(backend,), iterations=50, workers=1)
    result = routing.solve(p, params)
    assert result.metrics.backend == backend and result.dropped == ()
    (route,) = result.routes
    assert routing.verify_route(p, route) is None
    assert [s.location for s in route.stops] == [1, 2]
