"""The routing evaluator and the independent plan checker agree on random routes.

``routing.evaluate`` decides which routes the solvers may return;
``engine.checker`` judges plans from the spec alone. On random small days
built around a few shared places (several lots and households at the same
coordinates, the volunteer living at one of them) and random node orders of
random allocations, both must say the same: feasible or not, the same road
km, the same schedule (probed through windows and shift ends set just below
and at the evaluator's arrival and return times) and the same loads (probed
through capacities just below and at the evaluator's largest load). A
feasible route also goes through the plan writer, which must emit one visit
per stop: a pickup visit and a later, separate delivery visit where a lot and
its household share coordinates.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.checker import CheckReport, check_plan
from engine.dispatch import DispatchProblem, plan_routes, routing_problem
from engine.scenario.plan import Plan, PlanAllocation
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict
from routing.evaluate import RouteCheck, check_route, node_location, to_route, verify_route
from routing.problem import RoutingProblem
from tests.helpers.days import clock

# A 4 × 4 grid of places about 1 km apart around Tunis; a day uses a few.
GRID = [(36.80 + 0.01 * i, 10.18 + 0.01 * j) for i in range(4) for j in range(4)]
MARGIN = 1e-5  # minutes: well above the checker's 1e-6 tolerance, far below a minute


@dataclass(frozen=True)
class Case:
    """A day (exchange-format dict), its allocations and one route's node codes."""

    doc: dict[str, Any]
    allocations: tuple[PlanAllocation, ...]
    volunteer: int
    nodes: tuple[int, ...]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    places = draw(st.lists(st.sampled_from(GRID), min_size=1, max_size=4, unique=True))
    place = st.sampled_from(places)
    n_sup = draw(st.integers(1, 3))
    n_req = draw(st.integers(1, 4))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_sup - 1), st.integers(0, n_req - 1), st.integers(1, 4)),
            min_size=1,
            max_size=6,
        )
    )
    allocations = tuple(
        PlanAllocation(f"A{i + 1}", f"S{s}", f"R{r}", q) for i, (s, r, q) in enumerate(pairs)
    )
    given_by: dict[str, int] = {}
    wanted: dict[str, int] = {}
    for a in allocations:
        given_by[a.supply] = given_by.get(a.supply, 0) + a.quantity
        wanted[a.request] = wanted.get(a.request, 0) + a.quantity
    supplies = []
    for sid, quantity in sorted(given_by.items()):
        lat, lon = draw(place)
        supplies.append(
            {
                "id": sid,
                "category": "kit",
                "quantity": quantity,
                "lat": lat,
                "lon": lon,
                "region": "TN-11",
            }
        )
    requests = []
    for rid, quantity in sorted(wanted.items()):
        lat, lon = draw(place)
        record = {
            "id": rid,
            "category": "kit",
            "quantity": quantity,
            "lat": lat,
            "lon": lon,
            "region": "TN-11",
            "priority": 3,
        }
        if draw(st.booleans()):
            opens = draw(st.sampled_from((0, 480, 540, 600, 660)))
            closes = min(1440, opens + draw(st.sampled_from((0, 15, 60, 1440))))
            record["window"] = [clock(opens), clock(closes)]
        requests.append(record)
    volunteers = []
    for i in range(draw(st.integers(1, 2))):
        lat, lon = draw(place)
        start = draw(st.sampled_from((480, 600)))
        volunteers.append(
            {
                "id": f"V{i}",
                "lat": lat,
                "lon": lon,
                "capacity_kg": draw(st.sampled_from((5, 20, 60, 400))),
                "shift": [clock(start), clock(start + draw(st.sampled_from((0, 30, 120, 600))))],
                "speed_kmh": draw(st.sampled_from((5, 30))),
            }
        )
    doc = {
        "version": 1,
        "date": "2026-11-28",
        "categories": [
            {"id": "kit", "unit": "kit", "weight_kg": draw(st.sampled_from((0.5, 2.5, 15.0)))}
        ],
        "supplies": supplies,
        "requests": requests,
        "volunteers": volunteers,
        "policy": {
            "stop_minutes": draw(st.sampled_from((0, 2.5, 5))),
            "unit_minutes": draw(st.sampled_from((0, 0.5, 1.25))),
            "road_factor": draw(st.sampled_from((1.0, 1.3))),
        },
    }
    # The route: some allocations, their pickup and delivery codes in a random
    # order; mostly each pickup before its delivery, so that routes are often
    # feasible and the schedule, not the order, decides.
    chosen = draw(st.lists(st.integers(0, len(allocations) - 1), unique=True, max_size=5))
    slots = draw(st.permutations(list(range(2 * len(chosen)))))
    codes = [0] * len(slots)
    in_order = draw(st.integers(0, 3)) > 0
    for i, k in enumerate(chosen):
        a, b = slots[2 * i], slots[2 * i + 1]
        first, second = (min(a, b), max(a, b)) if in_order else (a, b)
        codes[first], codes[second] = 2 * k, 2 * k + 1
    if codes and draw(st.integers(0, 9)) == 0:
        codes.pop(draw(st.integers(0, len(codes) - 1)))  # a pickup or delivery missing
    return Case(doc, allocations, draw(st.integers(0, len(volunteers) - 1)), tuple(codes))


def evaluate(doc: dict[str, Any], case: Case) -> tuple[DispatchProblem, RoutingProblem, RouteCheck]:
    """The routing side: Jessr's routing problem of the day and the evaluator's verdict."""
    scenario = parse_scenario(doc)
    values = {a.id: 1.0 for a in case.allocations}
    dispatch = routing_problem(scenario, case.allocations, values)
    problem = dispatch.problem.to_problem()
    return dispatch, problem, check_route(problem, case.volunteer, case.nodes)


def visits_of(dispatch: DispatchProblem, problem: RoutingProblem, nodes: tuple[int, ...]) -> list:
    """The plan visits of a node sequence: consecutive nodes at one location are one
    visit, deliveries and pickups listed in code order (as the evaluator sums loads)."""
    groups: list[tuple[int, list[int]]] = []
    for code in nodes:
        here = node_location(problem, code)
        if groups and groups[-1][0] == here:
            groups[-1][1].append(code)
        else:
            groups.append((here, [code]))
    ids = [s.id for s in problem.shipments]
    return [
        {
            "lat": float(dispatch.lat[here]),
            "lon": float(dispatch.lon[here]),
            "pickups": [ids[c >> 1] for c in sorted(codes) if not c & 1],
            "deliveries": [ids[c >> 1] for c in sorted(codes) if c & 1],
        }
        for here, codes in groups
    ]


def judge(doc: dict[str, Any], case: Case, visits: list) -> CheckReport:
    """The checker's report on a plan holding the case's allocations and one route."""
    on_route = {a for v in visits for a in (*v["pickups"], *v["deliveries"])}
    plan = {
        "version": 1,
        "allocations": [
            {"id": a.id, "supply": a.supply, "request": a.request, "quantity": a.quantity}
            for a in case.allocations
        ],
        "routes": [{"volunteer": doc["volunteers"][case.volunteer]["id"], "visits": visits}],
        "unrouted": [
            {"allocation": a.id, "reason": "no_volunteer_capacity"}
            for a in case.allocations
            if a.id not in on_route
        ],
        "unmet": [],
    }
    return check_plan(parse_scenario(doc), plan)


def agree(doc: dict[str, Any], case: Case, visits: list) -> bool:
    """Both sides' verdict on ``doc`` (a probe of the case); fails if they differ."""
    _, _, chk = evaluate(doc, case)
    violations = judge(doc, case, visits).violations
    assert chk.feasible == (not violations), (chk.error, violations)
    return chk.feasible


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_evaluator_and_checker_agree_on_random_routes(case: Case) -> None:
    dispatch, problem, chk = evaluate(case.doc, case)
    visits = visits_of(dispatch, problem, case.nodes)
    event("feasible" if chk.feasible else "infeasible")
    places = [(v["lat"], v["lon"]) for v in visits]
    if any(a == b for a, b in itertools.pairwise(places)):
        event("consecutive visits at the same coordinates")
    if not agree(case.doc, case, visits):
        return
    route = to_route(problem, case.volunteer, case.nodes)
    assert verify_route(problem, route) is None
    # The plan writer emits exactly these visits, and the checker accepts its plan.
    written = plan_to_dict(Plan((), routes=plan_routes(dispatch, [route])))["routes"]
    if not visits:
        assert written == []
        return
    (written_route,) = written
    assert [{k: v[k] for k in visits[0]} for v in written_route["visits"]] == visits
    report = judge(case.doc, case, written_route["visits"])
    assert report.valid, report.violations
    # Distance: the checker's road km of the route (legs from and to home included).
    assert math.isclose(report.route_km, chk.distance, rel_tol=1e-12, abs_tol=1e-12)

    volunteer = case.doc["volunteers"][case.volunteer]
    shift_start = parse_scenario(case.doc).volunteers[case.volunteer].shift[0]

    def with_shift_end(end: int) -> dict[str, Any]:
        doc = copy.deepcopy(case.doc)
        doc["volunteers"][case.volunteer]["shift"] = [volunteer["shift"][0], clock(end)]
        return doc

    # Schedule, end of the route: home just after the evaluator's return time.
    back = shift_start + chk.duration
    below = math.floor(back - MARGIN)
    if below >= shift_start:
        assert not agree(with_shift_end(below), case, visits)
    assert agree(with_shift_end(math.ceil(back)), case, visits)

    # Schedule, every stop: a request's window closing just before its first
    # delivery's service start is missed; closing at its last one is met.
    arrivals: dict[str, list[float]] = {}
    request_of = {a.id: a.request for a in case.allocations}
    for stop in chk.stops:
        for aid in stop.deliveries:
            arrivals.setdefault(request_of[aid], []).append(stop.arrival)
    for rid, times in arrivals.items():
        index = next(i for i, r in enumerate(case.doc["requests"]) if r["id"] == rid)
        opens = parse_scenario(case.doc).requests[index].window[0]

        def with_close(close: int, index: int = index, opens: int = opens) -> dict[str, Any]:
            doc = copy.deepcopy(case.doc)
            doc["requests"][index]["window"] = [clock(opens), clock(close)]
            return doc

        below = math.floor(min(times) - MARGIN)
        if below >= opens:
            assert not agree(with_close(below), case, visits)
        assert agree(with_close(math.ceil(max(times))), case, visits)

    # Loads: the largest load on board fits a capacity equal to it, not one
    # 1e-8 kg smaller (beyond the checker's 1e-9 kg tolerance).
    heaviest = max(stop.load_after for stop in chk.stops)
    for capacity, fits in ((heaviest, True), (heaviest - 1e-8, False)):
        doc = copy.deepcopy(case.doc)
        doc["volunteers"][case.volunteer]["capacity_kg"] = capacity
        assert agree(doc, case, visits) == fits
