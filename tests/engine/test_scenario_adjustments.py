"""A scenario's exclusions and pins (a coordinator's adjustments): read, written,
honoured by the solver, verified by the checker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.checker import check_plan
from engine.params import DayParams
from engine.scenario.errors import ScenarioError
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict, scenario_to_dict
from engine.snapshot import document_text
from engine.solve import solve_scenario
from tests.helpers.days import assert_plan_valid

TUNIS = (36.8065, 10.1815)
PARAMS = DayParams(iterations=50, workers=1)


def supply(sid: str, quantity: int, at: tuple[float, float] = TUNIS) -> dict[str, Any]:
    return {
        "id": sid,
        "category": "food.basket",
        "quantity": quantity,
        "lat": at[0],
        "lon": at[1],
        "region": "TN-11",
    }


def request(rid: str, priority: int, quantity: int = 2, km_north: float = 1.0) -> dict[str, Any]:
    return {
        "id": rid,
        "category": "food.basket",
        "quantity": quantity,
        "lat": TUNIS[0] + km_north / 111.0,
        "lon": TUNIS[1],
        "region": "TN-11",
        "priority": priority,
    }


VOLUNTEER = {
    "id": "V1",
    "lat": TUNIS[0],
    "lon": TUNIS[1],
    "capacity_kg": 400,
    "shift": ["08:00", "16:00"],
}


def day(**extra: Any) -> dict[str, Any]:
    """Two interchangeable lots of 3 at the depot, four requests of 2 (8 asked, 6 held)."""
    doc = {
        "version": 1,
        "date": "2026-11-28",
        "supplies": [supply("S1", 3), supply("S2", 3)],
        "requests": [request(f"R{i}", priority=i, km_north=i) for i in range(1, 5)],
        "volunteers": [VOLUNTEER],
    }
    doc.update(extra)
    return doc


def pairs(outcome: Any) -> list[tuple[str, str, int]]:
    return [(a.supply, a.request, a.quantity) for a in outcome.plan.allocations]


def test_a_scenario_without_adjustments_is_written_as_before() -> None:
    doc = scenario_to_dict(parse_scenario(day()))
    assert "exclusions" not in doc and "pins" not in doc


def test_exclusions_and_pins_round_trip() -> None:
    scenario = parse_scenario(
        day(
            exclusions=[{"supply": "S2", "request": "R4"}, {"supply": "S1", "request": "R3"}],
            pins=[{"supply": "S1", "request": "R1", "quantity": 2}],
        )
    )
    doc = scenario_to_dict(scenario)
    assert doc["exclusions"] == [
        {"supply": "S1", "request": "R3"},
        {"supply": "S2", "request": "R4"},
    ]
    assert doc["pins"] == [{"supply": "S1", "request": "R1", "quantity": 2}]
    assert parse_scenario(json.loads(document_text(doc))) == scenario


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"pins": [{"supply": "S9", "request": "R1", "quantity": 1}]}, 'supply "S9" is unknown'),
        ({"pins": [{"supply": "S1", "request": "R1", "quantity": 0}]}, "quantity must be"),
        ({"pins": [{"supply": "S1", "request": "R1"}]}, 'missing required field "quantity"'),
        (
            {"pins": [{"supply": "S1", "request": "R1", "quantity": 2}] * 2},
            'the pins take 4 units of supply "S1", more than its 3',
        ),
        (
            {
                "exclusions": [{"supply": "S1", "request": "R1"}],
                "pins": [{"supply": "S1", "request": "R1", "quantity": 1}],
            },
            "pins a pair the scenario excludes",
        ),
        ({"exclusions": [{"supply": "S1", "request": "R9"}]}, 'request "R9" is unknown'),
        ({"exclusions": {"supply": "S1"}}, "exclusions must be a list"),
    ],
)
def test_invalid_adjustments_are_named(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(day(**extra))
    assert message in str(caught.value)


def test_a_pin_must_be_an_eligible_pair() -> None:
    far = day(pins=[{"supply": "S1", "request": "R1", "quantity": 1}])
    far["requests"][0] = request("R1", priority=1, km_north=400)  # beyond 150 km
    with pytest.raises(ScenarioError, match="not an eligible pair"):
        parse_scenario(far)


def test_an_excluded_pair_is_never_allocated_and_only_that_pair() -> None:
    plain = solve_scenario(parse_scenario(day()), PARAMS)
    lot = next(s for s, r, _ in pairs(plain) if r == "R4")  # the most urgent's lot
    other = {"S1": "S2", "S2": "S1"}[lot]
    scenario = parse_scenario(day(exclusions=[{"supply": lot, "request": "R4"}]))
    outcome = solve_scenario(scenario, PARAMS)
    assert_plan_valid(scenario, outcome)
    got = pairs(outcome)
    assert (lot, "R4") not in {(s, r) for s, r, _ in got}
    # The other lot stands at the same depot: the exclusion does not reach it.
    assert [(s, q) for s, r, q in got if r == "R4"] == [(other, 2)]
    assert outcome.plan.metrics["allocated_value"] == plain.plan.metrics["allocated_value"]


def test_a_pin_is_kept_against_the_value_optimum() -> None:
    # Without the pin the least urgent request R1 gets nothing (6 units, 8 asked).
    plain = solve_scenario(parse_scenario(day()), PARAMS)
    assert all(r != "R1" for _, r, _ in pairs(plain))
    scenario = parse_scenario(day(pins=[{"supply": "S2", "request": "R1", "quantity": 2}]))
    outcome = solve_scenario(scenario, PARAMS)
    assert_plan_valid(scenario, outcome)
    assert pairs(outcome)[0] == ("S2", "R1", 2)
    assert outcome.plan.allocations[0].id == "A1"
    carried = {aid for r in outcome.plan.routes for v in r.visits for aid in v.deliveries}
    assert "A1" in carried  # routed as any allocation


def test_a_pin_survives_round_two_when_round_one_could_not_carry_it() -> None:
    # R1 lies 100 km away: no route reaches it and back within the shift.
    doc = day(pins=[{"supply": "S1", "request": "R1", "quantity": 1}])
    doc["requests"][0] = request("R1", priority=1, km_north=100)
    doc["volunteers"] = [{**VOLUNTEER, "shift": ["08:00", "10:00"]}]
    scenario = parse_scenario(doc)
    outcome = solve_scenario(scenario, PARAMS)
    assert_plan_valid(scenario, outcome)
    assert ("S1", "R1", 1) in pairs(outcome)
    unrouted = {u.allocation for u in outcome.plan.unrouted}
    pinned = next(a.id for a in outcome.plan.allocations if a.request == "R1")
    assert pinned in unrouted  # kept, offered for collection


def test_stock_used_up_by_pins_makes_the_rest_outcompeted_not_no_supply() -> None:
    doc = day(pins=[{"supply": "S1", "request": "R2", "quantity": 2}])
    doc["supplies"] = [supply("S1", 2)]
    scenario = parse_scenario(doc)
    outcome = solve_scenario(scenario, PARAMS)
    assert_plan_valid(scenario, outcome)  # the checker refutes a false no_supply
    assert {u.reason for u in outcome.plan.unmet} == {"outcompeted"}


def test_the_checker_enforces_exclusions_and_pins() -> None:
    plain_scenario = parse_scenario(day())
    plan = plan_to_dict(solve_scenario(plain_scenario, PARAMS).plan)
    used = plan["allocations"][0]
    adjusted = parse_scenario(
        day(
            exclusions=[{"supply": used["supply"], "request": used["request"]}],
            pins=[{"supply": "S2", "request": "R1", "quantity": 1}],
        )
    )
    report = check_plan(adjusted, plan)
    assert any(v.startswith("rule 1:") and "excludes" in v for v in report.violations)
    assert any(v.startswith("rule 7:") and '"R1"' in v for v in report.violations)
    assert check_plan(plain_scenario, plan).valid
