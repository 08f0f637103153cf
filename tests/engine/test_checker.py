"""Independent plan checker: a valid hand-built plan, and one broken plan per rule."""

from __future__ import annotations

import copy
import dataclasses
import random
from collections.abc import Callable
from typing import Any

import pytest
from geopy.distance import great_circle

from engine.checker import CheckReport, _q, check_plan, request_value
from engine.scenario.model import Scenario
from engine.scenario.plan import Plan, PlanAllocation, PlanRoute, PlanVisit, Unmet, Unrouted
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict
from routing.result import DropReason

HOME = (36.80, 10.18)
S1 = (36.8065, 10.1815)
R1 = (36.86, 10.19)
R2 = (36.80, 10.10)
R4 = (36.83, 10.25)

SCENARIO_DOC: dict[str, Any] = {
    "version": 1,
    "date": "2026-11-28",
    "categories": [
        {"id": "food.basket", "unit": "basket", "weight_kg": 15.0},
        {"id": "food.oil", "unit": "bottle", "weight_kg": 5.0},
    ],
    "supplies": [
        {"id": "S1", "category": "food.basket", "quantity": 3, "lat": S1[0], "lon": S1[1],
         "region": "TN-11"},
        {"id": "S2", "category": "food.oil", "quantity": 3, "lat": 36.81, "lon": 10.17,
         "region": "TN-11", "expires": "2026-11-27"},
        {"id": "S3", "category": "food.basket", "quantity": 2, "lat": 36.85, "lon": 10.20,
         "region": "TN-11", "regions": ["TN-11"]},
        {"id": "S4", "category": "food.basket", "quantity": 2, "lat": 34.74, "lon": 10.76,
         "region": "TN-61"},
        {"id": "S5", "category": "food.basket", "quantity": 1, "lat": R2[0], "lon": R2[1],
         "region": "TN-11"},
    ],
    "requests": [
        {"id": "R1", "category": "food.basket", "quantity": 2, "lat": R1[0], "lon": R1[1],
         "region": "TN-12", "priority": 4, "filed": "2026-11-20", "window": ["09:00", "17:00"]},
        {"id": "R2", "category": "food.basket", "quantity": 1, "lat": R2[0], "lon": R2[1],
         "region": "TN-11", "priority": 2, "filed": "2026-10-01", "window": ["08:00", "09:00"]},
        {"id": "R3", "category": "food.oil", "quantity": 1, "lat": 36.82, "lon": 10.16,
         "region": "TN-11", "priority": 5},
        {"id": "R4", "category": "food.basket", "quantity": 2, "lat": R4[0], "lon": R4[1],
         "region": "TN-11", "priority": 1},
    ],
    "volunteers": [
        {"id": "V1", "lat": HOME[0], "lon": HOME[1], "capacity_kg": 50,
         "shift": ["08:00", "14:00"]},
        {"id": "V2", "lat": HOME[0], "lon": HOME[1], "capacity_kg": 20,
         "shift": ["08:00", "14:00"]},
        {"id": "V3", "lat": HOME[0], "lon": HOME[1], "capacity_kg": 50,
         "shift": ["08:00", "08:30"]},
    ],
}  # fmt: skip

VALID_PLAN: dict[str, Any] = {
    "version": 1,
    "allocations": [
        {"id": "A1", "supply": "S1", "request": "R1", "quantity": 2},
        {"id": "A2", "supply": "S1", "request": "R2", "quantity": 1},
        {"id": "A3", "supply": "S3", "request": "R4", "quantity": 2},
    ],
    "routes": [
        {
            "volunteer": "V1",
            "visits": [
                {"lat": S1[0], "lon": S1[1], "arrival": "08:02",
                 "pickups": ["A1", "A2"], "deliveries": []},
                {"lat": R2[0], "lon": R2[1], "arrival": "08:27",
                 "pickups": [], "deliveries": ["A2"]},
                {"lat": R1[0], "lon": R1[1], "arrival": "09:00",
                 "pickups": [], "deliveries": ["A1"]},
            ],
            "distance_km": 0.0,
        }
    ],
    "unrouted": [{"allocation": "A3", "reason": "no_volunteer_capacity"}],
    "unmet": [{"request": "R3", "quantity": 1, "reason": "no_supply"}],
    "metrics": {},
}  # fmt: skip


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return parse_scenario(SCENARIO_DOC)


def _plan(*mutations: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    plan = copy.deepcopy(VALID_PLAN)
    for mutate in mutations:
        mutate(plan)
    return plan


def _violations(scenario: Scenario, plan: dict[str, Any], rule: int) -> list[str]:
    report = check_plan(scenario, plan)
    assert not report.valid
    return [v for v in report.violations if v.startswith(f"rule {rule}:")]


def _add_alloc(aid: str, supply: str, request: str, quantity: Any = 1) -> Callable[..., None]:
    """An extra allocation, listed as unrouted so that only the intended rule breaks."""

    def mutate(plan: dict[str, Any]) -> None:
        plan["allocations"].append(
            {"id": aid, "supply": supply, "request": request, "quantity": quantity}
        )
        plan["unrouted"].append({"allocation": aid, "reason": "test"})

    return mutate


def _visits(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return plan["routes"][0]["visits"]


# -- the valid plan and the metrics


def test_valid_plan_passes(scenario: Scenario) -> None:
    report = check_plan(scenario, VALID_PLAN)
    assert report.violations == ()
    assert report.valid


def test_metrics_recomputed_with_geopy(scenario: Scenario) -> None:
    report = check_plan(scenario, VALID_PLAN)
    w1 = 8 * (1 + 0.01 * 8)  # priority 4, filed 8 days before
    w2 = 2 * (1 + 0.01 * 30)  # priority 2, filed 58 days before: capped at 30
    w4 = 1.0  # priority 1, filed on the plan date
    assert report.allocated_value == pytest.approx(2 * w1 + w2 + 2 * w4, rel=1e-12)
    assert report.delivered_value == pytest.approx(2 * w1 + w2, rel=1e-12)
    s3_r4 = great_circle((36.85, 10.2), R4).km
    effort = 15.0 * (2 * great_circle(S1, R1).km + great_circle(S1, R2).km + 2 * s3_r4)
    assert report.effort_kg_km == pytest.approx(effort, rel=1e-12)
    legs = [(HOME, S1), (S1, R2), (R2, R1), (R1, HOME)]
    assert report.route_km == pytest.approx(
        1.3 * sum(great_circle(a, b).km for a, b in legs), rel=1e-12
    )
    assert report.metrics["route_km"] == report.route_km


def test_request_value_ignores_future_filing(scenario: Scenario) -> None:
    later = dataclasses.replace(scenario.requests[0], filed=scenario.date.replace(day=30))
    assert request_value(scenario, later) == 8.0


def test_outcompeted_accepted_and_partial_unmet(scenario: Scenario) -> None:
    def drop_a3(plan: dict[str, Any]) -> None:
        plan["allocations"].pop()
        plan["unrouted"] = []
        plan["unmet"].append({"request": "R4", "quantity": 2, "reason": "outcompeted"})

    assert check_plan(scenario, _plan(drop_a3)).valid

    def shrink_a3(plan: dict[str, Any]) -> None:
        plan["allocations"][2]["quantity"] = 1
        plan["unmet"].append({"request": "R4", "quantity": 1, "reason": "outcompeted"})

    assert check_plan(scenario, _plan(shrink_a3)).valid


def test_empty_route_is_valid(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["routes"].append({"volunteer": "V2", "visits": []}))
    assert check_plan(scenario, plan).valid


# -- rule 1: eligibility, names, quantity


@pytest.mark.parametrize(
    ("supply", "req", "reason"),
    [
        ("S1", "R3", "categories differ (food.basket vs food.oil)"),
        ("S2", "R3", "supply expired on 2026-11-27"),
        ("S3", "R1", "region TN-12 not in the supply's regions"),
        ("S4", "R1", "km apart, over max_distance_km 150"),
    ],
)
def test_rule1_ineligible_pair(scenario: Scenario, supply: str, req: str, reason: str) -> None:
    found = _violations(scenario, _plan(_add_alloc("AX", supply, req)), 1)
    assert len(found) == 1
    assert '"AX"' in found[0] and f'"{supply}"' in found[0] and f'"{req}"' in found[0]
    assert reason in found[0]


@pytest.mark.parametrize(
    ("supply", "req", "quantity", "needle"),
    [
        ("S9", "R1", 1, 'unknown supply "S9"'),
        ("S1", "R9", 1, 'unknown request "R9"'),
        ("S3", "R4", 0, "positive integer, got 0"),
        ("S3", "R4", 1.5, "positive integer, got 1.5"),
        ("S3", "R4", "1", "positive integer, got '1'"),
    ],
)
def test_rule1_names_and_quantity(
    scenario: Scenario, supply: str, req: str, quantity: Any, needle: str
) -> None:
    found = _violations(scenario, _plan(_add_alloc("AX", supply, req, quantity)), 1)
    assert any('"AX"' in v and needle in v for v in found), found


# -- rule 2: quantity conservation


def test_rule2_supply_over_allocated(scenario: Scenario) -> None:
    def mutate(plan: dict[str, Any]) -> None:
        plan["allocations"][2]["quantity"] = 1  # A3: S3 -> R4 now 1
        _add_alloc("A4", "S1", "R4")(plan)  # S1 now gives 4 of its 3

    found = _violations(scenario, _plan(mutate), 2)
    assert found == ['rule 2: supply "S1" gives 4, more than its 3']


def test_rule2_request_over_delivered(scenario: Scenario) -> None:
    def mutate(plan: dict[str, Any]) -> None:
        plan["allocations"][2]["quantity"] = 1  # A3: S3 -> R4 now 1, S3 has 1 left
        _add_alloc("A4", "S3", "R2")(plan)  # R2 now receives 2 of its 1
        plan["unmet"].append({"request": "R4", "quantity": 1, "reason": "outcompeted"})

    found = _violations(scenario, _plan(mutate), 2)
    assert found == ['rule 2: request "R2" receives 2, more than its 1']


# -- rule 3: every allocation routed exactly once or unrouted once, in the right order


def test_rule3_neither_routed_nor_unrouted(scenario: Scenario) -> None:
    found = _violations(scenario, _plan(lambda p: p.update(unrouted=[])), 3)
    assert found == ['rule 3: allocation "A3" is neither routed nor unrouted']


def test_rule3_unrouted_twice(scenario: Scenario) -> None:
    plan = _plan(
        lambda p: p["unrouted"].append({"allocation": "A3", "reason": "no_volunteer_capacity"})
    )
    assert _violations(scenario, plan, 3) == [
        'rule 3: allocation "A3" is listed 2 times in unrouted'
    ]


@pytest.mark.parametrize("reason", ["busy", "no_routing", None, ["window"]])
def test_rule3_unrouted_reason_outside_the_vocabulary(scenario: Scenario, reason: object) -> None:
    plan = _plan(lambda p: p["unrouted"][0].update(reason=reason))
    assert _violations(scenario, plan, 3) == [
        f'rule 3: unrouted allocation "A3" has reason {_q(reason)}, expected one of '
        + ", ".join(sorted(r.value for r in DropReason))
    ]


def test_rule3_every_drop_reason_is_accepted(scenario: Scenario) -> None:
    for reason in DropReason:
        plan = _plan(lambda p, r=reason: p["unrouted"][0].update(reason=r.value))
        assert check_plan(scenario, plan).valid, reason


def test_rule3_routed_and_unrouted(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["unrouted"].append({"allocation": "A1", "reason": "window"}))
    assert _violations(scenario, plan, 3) == [
        'rule 3: allocation "A1" is routed and also listed in unrouted'
    ]


def test_rule3_routed_twice(scenario: Scenario) -> None:
    def mutate(plan: dict[str, Any]) -> None:
        plan["routes"].append(
            {
                "volunteer": "V2",
                "visits": [
                    {"lat": S1[0], "lon": S1[1], "pickups": ["A1"], "deliveries": []},
                    {"lat": R1[0], "lon": R1[1], "pickups": [], "deliveries": ["A1"]},
                ],
            }
        )

    found = _violations(scenario, _plan(mutate), 3)
    assert len(found) == 1 and '"A1" is picked up 2 and delivered 2 times' in found[0]


def test_rule3_delivery_before_pickup(scenario: Scenario) -> None:
    def mutate(plan: dict[str, Any]) -> None:
        visits = _visits(plan)
        visits.insert(0, visits.pop())  # deliver A1 at R1 before picking it up at S1

    found = _violations(scenario, _plan(mutate), 3)
    assert found == [
        'rule 3: allocation "A1" is delivered at visits[0], not after its pickup at '
        "visits[1] (routes[0])"
    ]


def test_rule3_pickup_and_delivery_on_different_routes(scenario: Scenario) -> None:
    def mutate(plan: dict[str, Any]) -> None:
        delivery = _visits(plan).pop()
        plan["routes"].append({"volunteer": "V2", "visits": [delivery]})

    found = _violations(scenario, _plan(mutate), 3)
    assert found == ['rule 3: allocation "A1" is picked up on routes[0] but delivered on routes[1]']


def test_rule3_wrong_delivery_coordinates(scenario: Scenario) -> None:
    plan = _plan(lambda p: _visits(p)[2].update(lat=R1[0] + 0.01))
    found = _violations(scenario, plan, 3)
    assert len(found) == 1
    assert 'delivers "A1" away from request "R1"' in found[0]


def test_rule3_wrong_pickup_coordinates(scenario: Scenario) -> None:
    plan = _plan(lambda p: _visits(p)[0].update(lon=S1[1] + 2e-6))
    found = _violations(scenario, plan, 3)
    assert any('picks up "A1" away from supply "S1"' in v for v in found)
    assert any('picks up "A2" away from supply "S1"' in v for v in found)


def test_rule3_coordinates_tolerate_float_noise(scenario: Scenario) -> None:
    plan = _plan(lambda p: _visits(p)[0].update(lat=S1[0] + 5e-7))
    assert check_plan(scenario, plan).valid


def test_rule3_unknown_allocation_in_route(scenario: Scenario) -> None:
    plan = _plan(lambda p: _visits(p)[0]["pickups"].append("A9"))
    found = _violations(scenario, plan, 3)
    assert found == [
        'rule 3: routes[0] (volunteer "V1") visits[0] picks up unknown allocation "A9"'
    ]


# -- rule 4: capacity, volunteers


def test_rule4_capacity_exceeded(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["routes"][0].update(volunteer="V2"))  # 45 kg on a 20 kg car
    found = _violations(scenario, plan, 4)
    assert found == [
        'rule 4: routes[0] (volunteer "V2") visits[0] carries 45 kg, over capacity 20 kg'
    ]


def test_rule4_unload_before_load_at_a_visit(scenario: Scenario) -> None:
    # S5 sits exactly at R2. V1 (50 kg) arrives there with 45 kg, delivers A2 (15 kg)
    # and picks up A5 (15 kg): 45 kg if unloading comes first (as the spec says), 60 if not.
    def mutate(plan: dict[str, Any]) -> None:
        plan["allocations"][2]["quantity"] = 1  # A3: S3 -> R4 now 1, leaving room for A5
        plan["allocations"].append({"id": "A5", "supply": "S5", "request": "R4", "quantity": 1})
        visits = _visits(plan)
        visits[1]["pickups"] = ["A5"]
        visits.append({"lat": R4[0], "lon": R4[1], "pickups": [], "deliveries": ["A5"]})

    assert check_plan(scenario, _plan(mutate)).violations == ()
    # The same load with one more basket on board breaks the capacity at that visit.
    doc = copy.deepcopy(SCENARIO_DOC)
    doc["volunteers"][0]["capacity_kg"] = 44.9
    found = _violations(parse_scenario(doc), _plan(mutate), 4)
    assert found == [
        'rule 4: routes[0] (volunteer "V1") visits[0] carries 45 kg, over capacity 44.9 kg'
    ]


def test_rule4_volunteer_used_twice(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["routes"].append({"volunteer": "V1", "visits": []}))
    assert _violations(scenario, plan, 4) == [
        'rule 4: routes[1] (volunteer "V1"): volunteer already drives routes[0]'
    ]


def test_rule4_unknown_volunteer(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["routes"][0].update(volunteer="V9"))
    assert _violations(scenario, plan, 4) == [
        'rule 4: routes[0] (volunteer "V9") names an unknown volunteer'
    ]


# -- rule 5: the earliest schedule


def test_rule5_window_missed(scenario: Scenario) -> None:
    def mutate(plan: dict[str, Any]) -> None:
        visits = _visits(plan)
        visits[1], visits[2] = visits[2], visits[1]  # R1 first: wait until 09:00, R2 late

    found = _violations(scenario, _plan(mutate), 5)
    assert len(found) == 1
    assert 'visits[2] delivers "A2"' in found[0] and 'request "R2" closes' in found[0]


def test_rule5_shift_end_exceeded(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["routes"][0].update(volunteer="V3"))  # shift ends 08:30
    found = _violations(scenario, plan, 5)
    assert len(found) == 1
    assert found[0].startswith('rule 5: routes[0] (volunteer "V3") returns home at 09:')
    assert "after the shift end" in found[0]


def test_rule5_waiting_counts(scenario: Scenario) -> None:
    # Same route but the volunteer starts at 08:00 and R1 opens 09:00: waiting is legal,
    # and the return time includes it. A window closing before the wait ends is missed.
    doc = copy.deepcopy(SCENARIO_DOC)
    doc["requests"][0]["window"] = ["08:10", "08:40"]
    found = _violations(parse_scenario(doc), VALID_PLAN, 5)
    assert len(found) == 1 and 'delivers "A1"' in found[0]


# -- rule 6: unmet


def test_rule6_missing_unmet_entry(scenario: Scenario) -> None:
    plan = _plan(lambda p: p.update(unmet=[]))
    assert _violations(scenario, plan, 6) == ['rule 6: request "R3" misses 1 but is not in unmet']


def test_rule6_wrong_no_supply_reason(scenario: Scenario) -> None:
    def mutate(plan: dict[str, Any]) -> None:
        plan["allocations"].pop()
        plan["unrouted"] = []
        plan["unmet"].append({"request": "R4", "quantity": 2, "reason": "no_supply"})

    assert _violations(scenario, _plan(mutate), 6) == [
        'rule 6: unmet request "R4" claims no_supply, but an eligible supply exists'
    ]


def test_rule6_wrong_quantity_and_reason(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["unmet"][0].update(quantity=2, reason="busy"))
    found = _violations(scenario, plan, 6)
    assert found == [
        'rule 6: unmet request "R3" lists quantity 2, but 1 are missing',
        "rule 6: unmet request \"R3\" has reason 'busy', expected one of no_supply, outcompeted",
    ]


def test_rule6_fully_served_listed(scenario: Scenario) -> None:
    plan = _plan(lambda p: p["unmet"].append({"request": "R1", "quantity": 1, "reason": "x"}))
    assert _violations(scenario, plan, 6) == [
        'rule 6: request "R1" is fully served but listed in unmet'
    ]


# -- robustness and distances


@pytest.mark.parametrize(
    "plan",
    [
        [],
        {"allocations": {}},
        {"allocations": [1], "routes": [{"volunteer": "V1", "visits": [{"lat": "x"}]}]},
        {"routes": 3, "unrouted": [None], "unmet": [5]},
        {"allocations": [{"id": "A1", "supply": ["S1"], "request": {"R": 1}, "quantity": 1}]},
        {"routes": [{"volunteer": ["V1"], "visits": [{"lat": 1, "lon": 2, "pickups": "A1"}]}]},
        {"version": 2},
    ],
)
def test_malformed_plans_are_violations_not_crashes(scenario: Scenario, plan: Any) -> None:
    report = check_plan(scenario, plan)
    assert isinstance(report, CheckReport)
    assert not report.valid


def test_no_supply_check_matches_brute_force() -> None:
    # Every request claims no_supply; the checker must refute exactly those with an
    # eligible supply (same category, unexpired, region allowed, within the distance).
    rng = random.Random(7)
    categories = ["food.basket", "food.oil"]
    regions = ["TN-11", "TN-12", "TN-13"]
    supplies = [
        {
            "id": f"S{i}",
            "category": rng.choice(categories),
            "quantity": 1,
            "lat": rng.uniform(35.0, 37.0),
            "lon": rng.uniform(8.0, 11.0),
            "region": rng.choice(regions),
            **({"expires": rng.choice(["2026-11-27", "2026-11-28"])} if rng.random() < 0.3 else {}),
            **({"regions": rng.sample(regions, rng.randint(0, 2))} if rng.random() < 0.4 else {}),
        }
        for i in range(60)
    ]
    requests = [
        {
            "id": f"R{i}",
            "category": rng.choice(categories),
            "quantity": 1,
            "lat": rng.uniform(34.0, 38.0),
            "lon": rng.uniform(7.0, 12.0),
            "region": rng.choice(regions),
            "priority": 3,
        }
        for i in range(300)
    ]
    doc = {
        "version": 1,
        "date": "2026-11-28",
        "supplies": supplies,
        "requests": requests,
        "policy": {"max_distance_km": 60},
    }
    scenario = parse_scenario(doc)
    plan = {
        "allocations": [],
        "unmet": [{"request": r["id"], "quantity": 1, "reason": "no_supply"} for r in requests],
    }
    refuted = {
        v.split('"')[1] for v in check_plan(scenario, plan).violations if "claims no_supply" in v
    }
    expected = {
        r.id
        for r in scenario.requests
        if any(
            s.category == r.category
            and (s.expires is None or s.expires >= scenario.date)
            and (s.regions is None or r.region in s.regions)
            and great_circle((s.lat, s.lon), (r.lat, r.lon)).km <= 60
            for s in scenario.supplies
        )
    }
    assert 0 < len(expected) < len(requests)  # both outcomes are exercised
    assert refuted == expected


def test_writer_output_checks_valid(scenario: Scenario) -> None:
    # The writer's plan document is what the checker reads: a Plan record of the valid
    # plan, rendered by plan_to_dict, must pass unchanged.
    plan = Plan(
        allocations=tuple(PlanAllocation(**a) for a in VALID_PLAN["allocations"]),
        routes=(
            PlanRoute(
                "V1",
                tuple(
                    PlanVisit(v["lat"], v["lon"], 0, tuple(v["pickups"]), tuple(v["deliveries"]))
                    for v in _visits(VALID_PLAN)
                ),
                distance_km=12.3456789,
            ),
        ),
        unrouted=(Unrouted("A3", "no_volunteer_capacity"),),
        unmet=(Unmet("R3", 1, "no_supply"),),
    )
    assert check_plan(scenario, plan_to_dict(plan)).valid
