"""Depot-loaded deliveries (``Shipment.pickup is None``): loaded at the start.

Evaluator rules (capacity counted from the start, no pickup node or stop),
alone-feasibility, greedy insertion, every backend alone and the portfolio on
problems mixing depot-loaded deliveries with real pickup-and-delivery pairs,
and the geographic decomposition.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from routing import (
    RoutingProblem,
    RoutingResult,
    Shipment,
    SolveParams,
    Vehicle,
    check_route,
    solve,
    verify_route,
)
from routing.evaluate import delivery, pickup
from routing.feasibility import alone_feasibility
from routing.insertion import insert_greedy
from tests.helpers.routing import random_problem


def line_problem(capacity: float = 10.0, home_load: float = 6.0) -> RoutingProblem:
    """Home at 0, supply at 10, households at 20; D is depot-loaded, B a pair."""
    xy = [(0.0, 0.0), (10.0, 0.0), (20.0, 0.0)]
    veh = Vehicle("V", 0, 0, capacity, (0.0, 100.0), speed=1.0)
    ships = (
        Shipment("D", None, 2, home_load, delivery_service=1.0),
        Shipment("B", 1, 2, 4.0, pickup_service=1.0, delivery_service=1.0),
    )
    return RoutingProblem.from_euclidean(np.array(xy), (veh,), ships, stop_time=5.0)


def test_capacity_is_counted_from_the_start() -> None:
    p = line_problem(capacity=10.0)
    ok = check_route(p, 0, [pickup(1), delivery(0), delivery(1)])
    assert ok.feasible
    assert ok.start_load == pytest.approx(6.0)
    assert ok.stops[0].pickups == ("B",) and ok.stops[0].load_after == pytest.approx(10.0)
    # Start load 6 + picked-up 4 > 9.
    over = check_route(line_problem(capacity=9.0), 0, [pickup(1), delivery(0), delivery(1)])
    assert not over.feasible and "capacity" in (over.error or "")
    # Delivering D first frees room for B.
    assert check_route(line_problem(capacity=9.0), 0, [delivery(0), pickup(1), delivery(1)])
    # The start load alone can exceed the capacity.
    heavy = check_route(line_problem(home_load=12.0), 0, [delivery(0)])
    assert not heavy.feasible and heavy.culprit == 0 and "start load" in (heavy.error or "")


def test_no_pickup_node_or_stop_and_verify_route() -> None:
    p = line_problem()
    chk = check_route(p, 0, [delivery(0)])
    assert chk.feasible and len(chk.stops) == 1
    assert chk.stops[0].pickups == () and chk.stops[0].deliveries == ("D",)
    assert chk.distance == pytest.approx(40.0)
    assert not check_route(p, 0, [pickup(0), delivery(0)]).feasible  # no pickup node
    assert not check_route(p, 0, [delivery(0), delivery(0)]).feasible  # delivered once
    res = solve(p, SolveParams(time_limit=0.5))
    assert len(res.routes) == 1 and res.routes[0].start_load == pytest.approx(6.0)
    assert verify_route(p, res.routes[0]) is None
    listed = replace(
        res.routes[0],
        stops=tuple(replace(s, pickups=(*s.pickups, "D")) for s in res.routes[0].stops),
    )
    assert verify_route(p, listed) is not None


def test_alone_feasibility_goes_straight_from_home() -> None:
    xy = np.array([(0.0, 0.0), (30.0, 0.0), (10.0, 0.0)])
    veh = Vehicle("V", 0, 0, 10.0, (0.0, 100.0))
    ships = (
        # Reachable from home at t=10 only: a pair via the far supply would be late.
        Shipment("D", None, 2, 1.0, delivery_window=(0.0, 10.0), pickup_window=(50.0, 60.0)),
        Shipment("P", 1, 2, 1.0, delivery_window=(0.0, 10.0)),
        Shipment("H", None, 2, 11.0),
    )
    feas, reasons = alone_feasibility(RoutingProblem.from_euclidean(xy, (veh,), ships))
    assert reasons == [None, "window", "too_heavy"]
    assert feas.tolist() == [[True, False, False]]


def mixed_problem(seed: int, shipments: int = 10, vehicles: int = 2) -> RoutingProblem:
    """``random_problem`` with every other shipment loaded at the start."""
    base = random_problem(seed, shipments=shipments, vehicles=vehicles, stop_time=2.0)
    ships = tuple(
        replace(s, pickup=None) if k % 2 == 0 else s for k, s in enumerate(base.shipments)
    )
    return RoutingProblem(base.distance, base.vehicles, ships, base.stop_time)


def assert_valid(problem: RoutingProblem, result: RoutingResult) -> None:
    """Valid routes, each shipment once, and an independent load count from the start."""
    carried: list[str] = []
    for route in result.routes:
        assert verify_route(problem, route) is None
        veh = next(v for v in problem.vehicles if v.id == route.vehicle)
        ships = [
            problem.shipments[problem.shipment_index(s)]
            for stop in route.stops
            for s in stop.deliveries
        ]
        load = sum(s.load for s in ships if s.pickup is None)
        assert route.start_load == pytest.approx(load)
        assert load <= veh.capacity + 1e-9
        for stop in route.stops:
            assert not any(
                problem.shipments[problem.shipment_index(s)].pickup is None for s in stop.pickups
            )
            load -= sum(problem.shipments[problem.shipment_index(s)].load for s in stop.deliveries)
            load += sum(problem.shipments[problem.shipment_index(s)].load for s in stop.pickups)
            assert load <= veh.capacity + 1e-9
            assert stop.load_after == pytest.approx(max(load, 0.0))
        carried += [s.id for s in ships]
    dropped = [d.shipment for d in result.dropped]
    assert sorted(carried + dropped) == sorted(s.id for s in problem.shipments)


@pytest.mark.parametrize("backend", ["pyvrp", "ortools", "vroom"])
def test_each_backend_alone_mixes_depot_loaded_and_pairs(backend: str) -> None:
    problem = mixed_problem(7)
    result = solve(problem, SolveParams(iterations=50, backends=(backend,)), seed=1)
    assert_valid(problem, result)
    served = {s for r in result.routes for st in r.stops for s in st.deliveries}
    kinds = {problem.shipments[problem.shipment_index(s)].pickup is None for s in served}
    assert kinds == {True, False}


@pytest.mark.parametrize("seed", [3, 4])
def test_portfolio_on_tight_capacity(seed: int) -> None:
    base = mixed_problem(seed, shipments=12, vehicles=3)
    vehs = tuple(replace(v, capacity=45.0) for v in base.vehicles)
    problem = RoutingProblem(base.distance, vehs, base.shipments, base.stop_time)
    result = solve(problem, SolveParams(iterations=100), seed=seed)
    assert_valid(problem, result)
    assert result.metrics.served > 0


def test_greedy_insertion_places_depot_loaded_deliveries() -> None:
    problem = mixed_problem(5, shipments=8, vehicles=2)
    feasible, reasons = alone_feasibility(problem)
    routes: dict[int, list[int]] = {}
    done = insert_greedy(problem, routes, [k for k, r in enumerate(reasons) if r is None], feasible)
    assert any(problem.shipments[k].pickup is None for k in done)
    for v, nodes in routes.items():
        assert check_route(problem, v, nodes).feasible
        assert all(c & 1 for c in nodes if problem.shipments[c >> 1].pickup is None)


def test_decomposition_with_depot_loaded_deliveries() -> None:
    problem = mixed_problem(21, shipments=40, vehicles=6)
    params = SolveParams(iterations=50, decompose_above=20, part_size=15, workers=1)
    result = solve(problem, params, seed=0)
    assert_valid(problem, result)
    assert result.metrics.backend.startswith("decomposed")
    assert result.metrics.served > 0
