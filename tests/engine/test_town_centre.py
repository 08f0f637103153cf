"""A town centre: many lots and households at the same coordinates.

A geocoder that falls back to a town's centre puts lots and households at one
point; the exact allocation then prefers exactly those pairs (zero effort).
A route serves such a pair in two visits at that point, a pickup and a later
delivery. Every path that routes a Jessr day must carry them all when the
volunteers have the capacity and time: each backend alone, greedy insertion,
the decomposition of a matrix problem and the regional path of a coordinate
problem, and the whole solve end to end; every plan passes the checker.
"""

from __future__ import annotations

from typing import Any

import pytest

import routing
from engine.checker import check_plan
from engine.dispatch import DispatchProblem, plan_routes, routing_problem
from engine.params import DayParams
from engine.scenario.model import Scenario
from engine.scenario.plan import Plan, PlanAllocation
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict
from engine.solve import solve_scenario
from routing.evaluate import check_route, to_route, verify_route
from routing.feasibility import alone_feasibility
from routing.insertion import insert_greedy, insertion_order

CENTRE = (35.8256, 10.6411)  # Sousse
NORTH = (35.8300, 10.6300)
SOUTH = (35.8150, 10.6500)


def _record(rid: str, at: tuple[float, float], quantity: int) -> dict[str, Any]:
    return {
        "id": rid,
        "category": "food.basket",
        "quantity": quantity,
        "lat": at[0],
        "lon": at[1],
        "region": "TN-51",
    }


def town_day() -> dict[str, Any]:
    """Four lots and eight households at the centre; a lot and a household
    share another point; two volunteers, one living at the centre."""
    supplies = [_record(f"S{i}", CENTRE, 3) for i in range(1, 5)] + [_record("S5", NORTH, 2)]
    requests = [dict(_record(f"R{i}", CENTRE, 1), priority=3) for i in range(1, 9)]
    requests[4]["window"] = ["10:00", "11:00"]  # R5: the volunteers must wait for it
    requests[5]["window"] = ["13:00", "13:30"]
    requests += [
        dict(_record("R9", SOUTH, 2), priority=4),
        dict(_record("R10", NORTH, 1), priority=2),
    ]
    volunteers = [
        {"id": "V1", "lat": CENTRE[0], "lon": CENTRE[1], "capacity_kg": 400,
         "shift": ["08:00", "16:00"], "speed_kmh": 30},
        {"id": "V2", "lat": SOUTH[0], "lon": SOUTH[1], "capacity_kg": 60,
         "shift": ["09:00", "15:00"], "speed_kmh": 20},
    ]  # fmt: skip
    return {
        "version": 1,
        "date": "2026-11-28",
        "categories": [{"id": "food.basket", "unit": "basket", "weight_kg": 15.0}],
        "supplies": supplies,
        "requests": requests,
        "volunteers": volunteers,
    }


# Centre lots to centre households (co-located pairs), one centre lot and the
# northern lot to the south, the northern lot to its northern neighbour.
ALLOCATIONS = tuple(
    PlanAllocation(f"A{i}", supply, request, quantity)
    for i, (supply, request, quantity) in enumerate(
        [
            *((f"S{(r - 1) // 2 + 1}", f"R{r}", 1) for r in range(1, 9)),
            ("S1", "R9", 1),
            ("S5", "R9", 1),
            ("S5", "R10", 1),
        ],
        start=1,
    )
)


def checked(scenario: Scenario, dispatch: DispatchProblem, routes: list) -> dict[str, Any]:
    """The routes as a plan, which the checker must find valid, carrying every allocation."""
    plan = plan_to_dict(Plan(ALLOCATIONS, routes=plan_routes(dispatch, routes)))
    report = check_plan(scenario, plan)
    assert report.valid, report.violations[:5]
    assert report.delivered_value == report.allocated_value > 0
    # The co-located pairs went as two visits at one point: pickup, later delivery.
    for a in ALLOCATIONS[:8]:
        visits = [v for r in plan["routes"] for v in r["visits"]]
        up = next(i for i, v in enumerate(visits) if a.id in v["pickups"])
        down = next(i for i, v in enumerate(visits) if a.id in v["deliveries"])
        assert up < down
        assert (visits[up]["lat"], visits[up]["lon"]) == CENTRE
        assert (visits[down]["lat"], visits[down]["lon"]) == CENTRE
    return plan


@pytest.fixture(scope="module")
def town() -> tuple[Scenario, DispatchProblem]:
    scenario = parse_scenario(town_day())
    values = {a.id: float(a.quantity) for a in ALLOCATIONS}
    return scenario, routing_problem(scenario, ALLOCATIONS, values)


def test_a_pair_at_one_point_is_two_locations_zero_km_apart(
    town: tuple[Scenario, DispatchProblem],
) -> None:
    _, dispatch = town
    problem = dispatch.problem.to_problem()
    for s in problem.shipments:
        assert s.pickup != s.delivery
    centre = problem.shipments[0]
    assert problem.distance[centre.pickup, centre.delivery] == 0.0
    # Homes share the pickup side: a lot at a volunteer's home is no detour.
    assert centre.pickup == problem.vehicles[0].start
    feasible, reasons = alone_feasibility(problem)
    assert reasons == [None] * len(ALLOCATIONS) and feasible[0].all()


@pytest.mark.parametrize(
    ("path", "backend"),
    [
        pytest.param(dict(backends=("vroom",)), "vroom", id="vroom"),
        pytest.param(dict(backends=("pyvrp",)), "pyvrp", id="pyvrp"),
        pytest.param(dict(backends=("ortools",)), "ortools", id="ortools"),
        pytest.param(dict(decompose_above=4, part_size=5), "decomposed", id="decomposed"),
        pytest.param(dict(geographic_above=1, part_size=5), "regional", id="regional"),
    ],
)
def test_every_routing_path_carries_the_town_centre(
    town: tuple[Scenario, DispatchProblem], path: dict[str, Any], backend: str
) -> None:
    scenario, dispatch = town
    # The matrix problem unless the path under test is the coordinate one.
    problem = dispatch.problem if "geographic_above" in path else dispatch.problem.to_problem()
    params = routing.SolveParams(iterations=200, workers=1, **path)
    result = routing.solve(problem, params, seed=1)
    assert result.metrics.backend.startswith(backend)  # the path under test found them
    assert result.dropped == ()
    for route in result.routes:
        assert verify_route(dispatch.problem.to_problem(), route) is None
    checked(scenario, dispatch, list(result.routes))


def test_greedy_insertion_carries_the_town_centre(
    town: tuple[Scenario, DispatchProblem],
) -> None:
    scenario, dispatch = town
    problem = dispatch.problem.to_problem()
    feasible, _ = alone_feasibility(problem)
    routes: dict[int, list[int]] = {}
    everything = range(len(problem.shipments))
    assert insert_greedy(problem, routes, insertion_order(problem, everything), feasible) == set(
        everything
    )
    checked(
        scenario,
        dispatch,
        [to_route(problem, v, nodes) for v, nodes in sorted(routes.items())],
    )
    assert all(check_route(problem, v, nodes).feasible for v, nodes in routes.items())


def test_the_town_centre_day_end_to_end() -> None:
    scenario = parse_scenario(town_day())
    outcome = solve_scenario(scenario, DayParams(iterations=100, workers=1, seed=3))
    plan = plan_to_dict(outcome.plan)
    report = check_plan(scenario, plan)
    assert report.valid, report.violations[:5]
    assert plan["unrouted"] == []
    assert report.delivered_value == report.allocated_value > 0
    # The exact allocation pairs centre lots with centre households (zero
    # effort), so the day's routes make pickup and delivery visits there.
    at_centre = [v for r in plan["routes"] for v in r["visits"] if (v["lat"], v["lon"]) == CENTRE]
    assert any(v["pickups"] for v in at_centre) and any(v["deliveries"] for v in at_centre)
    centre_ids = {r.id for r in scenario.requests if (r.lat, r.lon) == CENTRE}
    assert {a["request"] for a in plan["allocations"]} >= centre_ids
