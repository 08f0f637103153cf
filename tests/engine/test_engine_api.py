"""The engine as services call it: one validated ``DayParams``, bounded work on
extreme quantities, reasons from one vocabulary."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from engine.checker import check_plan
from engine.params import DayParams
from engine.scenario.plan import Unmet, Unrouted
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict
from engine.solve import solve_scenario
from matching import UnmetReason
from routing import DropReason

TUNIS = (36.8065, 10.1815)
ARIANA = (36.8625, 10.1956)


def test_default_params_are_the_documented_day() -> None:
    p = DayParams()
    assert (p.time_limit, p.iterations, p.seed, p.workers, p.route_aware) == (
        30.0,
        None,
        0,
        2,
        True,
    )
    assert p.day_backends == ("vroom", "pyvrp") and p.round2_backends == ("pyvrp",)
    with pytest.raises(AttributeError):
        p.time_limit = 5.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_limit": math.inf}, "time_limit: expected a finite number of seconds"),
        ({"time_limit": math.nan}, "time_limit: expected a finite number of seconds"),
        ({"time_limit": 0.0}, r"time_limit: expected seconds in \(0, 31536000\]"),
        ({"time_limit": 1e308}, r"time_limit: expected seconds in \(0, 31536000\]"),
        ({"iterations": 0}, "iterations: expected an integer >= 1 or None"),
        ({"iterations": 2.5}, "iterations: expected an integer"),
        ({"workers": 0}, "workers: expected an integer >= 1"),
        ({"seed": True}, "seed: expected an integer"),
        ({"route_aware": 1}, "route_aware: expected True or False"),
        ({"day_backends": ("vroom", "gurobi")}, "day_backends: expected distinct backends"),
        ({"day_shares": (1.0,)}, r"day_shares: expected one share per day backend \(2\)"),
        ({"day_shares": (0.0, 0.0)}, "day_shares: expected shares >= 0, at least one > 0"),
        ({"day_shares": (-0.5, 1.5)}, "day_shares: expected shares >= 0, at least one > 0"),
        ({"round1_share": 0.0}, r"round1_share: expected a share in \(0, 1\]"),
        ({"round1_share": 1.5}, r"round1_share: expected a share in \(0, 1\]"),
        ({"round2_backends": ()}, "round2_backends: expected distinct backends"),
        ({"min_routing_seconds": 0.0}, "min_routing_seconds: expected seconds > 0"),
        ({"assembly_seconds": -1.0}, "assembly_seconds: expected seconds >= 0"),
        ({"max_trips": 0}, "max_trips: expected an integer >= 1"),
    ],
)
def test_params_refuse_out_of_range_fields_by_name(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(DayParams(), **change)


def test_cli_refuses_an_infinite_time_limit_in_one_line(tmp_path, capsys) -> None:
    from engine.cli import main

    path = tmp_path / "day.json"
    path.write_text('{"version": 1, "date": "2026-11-28", "supplies": [], "requests": []}')
    out = tmp_path / "plan.json"
    assert main(["solve", str(path), "-o", str(out), "--time-limit", "inf", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jessr: --time-limit: expected") and err.count("\n") == 1
    assert not out.exists()


def _giant_day(quantity: int, volunteers: int, capacity_kg: float = 300.0):
    doc = {
        "version": 1,
        "date": "2026-11-28",
        "supplies": [
            {
                "id": "S1",
                "category": "food.basket",
                "quantity": quantity,
                "lat": TUNIS[0],
                "lon": TUNIS[1],
                "region": "TN-11",
            }
        ],
        "requests": [
            {
                "id": "R1",
                "category": "food.basket",
                "quantity": quantity,
                "lat": ARIANA[0],
                "lon": ARIANA[1],
                "region": "TN-12",
                "priority": 3,
            }
        ],
        "volunteers": [
            {
                "id": f"V{i}",
                "lat": TUNIS[0],
                "lon": TUNIS[1],
                "capacity_kg": capacity_kg,
                "shift": ["08:00", "18:00"],
            }
            for i in range(volunteers)
        ],
    }
    return parse_scenario(doc)


@pytest.mark.parametrize("route_aware", [False, True])
def test_a_billion_units_with_one_volunteer_is_a_few_allocations(route_aware: bool) -> None:
    # Split into vehicle loads one allocation each, 10⁹ units made ~5·10⁷
    # allocations (past 4 GB). Now: at most what the fleet can carry in a
    # day as pieces, the rest one unrouted allocation.
    scenario = _giant_day(10**9, volunteers=1)
    params = DayParams(iterations=50, workers=1, route_aware=route_aware, max_trips=8)
    outcome = solve_scenario(scenario, params)
    plan = outcome.plan
    assert sum(a.quantity for a in plan.allocations) == 10**9  # V is still exact
    # Nine loads (one, plus the fleet's eight trips) offered to routing, the
    # rest in one allocation; route-aware adds at most one load-sized piece
    # and one rest for the stock it re-allocates.
    assert len(plan.allocations) <= 9 + (3 if route_aware else 1)
    assert max(a.quantity for a in plan.allocations[:-1]) == 20  # 300 kg / 15 kg a basket
    overflow = [u for u in plan.unrouted if u.allocation == plan.allocations[-1].id]
    assert [u.reason for u in overflow] == [DropReason.NO_VOLUNTEER_CAPACITY]
    report = check_plan(scenario, plan_to_dict(plan))
    assert report.valid, report.violations[:5]
    assert report.delivered_value > 0


def test_the_piece_budget_is_shared_by_the_fleet_not_per_volunteer_and_record() -> None:
    # Ten volunteers may carry ten times as many loads; a short shift fewer.
    scenario = _giant_day(10**6, volunteers=10)
    outcome = solve_scenario(
        scenario, DayParams(iterations=50, workers=1, route_aware=False, max_trips=3)
    )
    allocations = outcome.plan.allocations
    assert len(allocations) == 1 + 10 * 3 + 1
    assert sum(a.quantity for a in allocations) == 10**6
    assert check_plan(scenario, plan_to_dict(outcome.plan)).valid


def test_a_load_that_fits_the_fleet_is_split_exactly_as_before() -> None:
    scenario = _giant_day(50, volunteers=2)  # 50 baskets = 2 × 20 + 10
    outcome = solve_scenario(scenario, DayParams(iterations=50, workers=1, route_aware=False))
    assert [a.quantity for a in outcome.plan.allocations] == [20, 20, 10]
    assert check_plan(scenario, plan_to_dict(outcome.plan)).valid


def test_reasons_are_the_enums_and_their_wire_strings() -> None:
    assert {r.value for r in DropReason} == {
        "no_volunteers",
        "no_volunteer_capacity",
        "outside_shift",
        "window",
        "too_heavy",
        "unreachable",
        "time_limit",
    }
    assert {r.value for r in UnmetReason} == {"no_supply", "outcompeted"}
    assert Unrouted("A1", "window").reason is DropReason.WINDOW
    assert Unmet("R1", 1, "no_supply").reason is UnmetReason.NO_SUPPLY
    with pytest.raises(ValueError):
        Unrouted("A1", "no_routing")
    with pytest.raises(ValueError):
        Unmet("R1", 1, "busy")


def test_weights_beyond_exact_costs_exit_2_naming_the_limit(tmp_path, capsys) -> None:
    from engine.cli import main

    doc = {
        "version": 1,
        "date": "2026-11-28",
        "supplies": [
            {
                "id": "S1",
                "category": "food.basket",
                "quantity": 3,
                "lat": TUNIS[0],
                "lon": TUNIS[1],
                "region": "TN-11",
            }
        ],
        "requests": [
            {
                "id": f"R{p}",
                "category": "food.basket",
                "quantity": 2,
                "lat": ARIANA[0],
                "lon": ARIANA[1],
                "region": "TN-12",
                "priority": p,
            }
            for p in (1, 2)
        ],
        "policy": {"priority_weights": {"1": 1, "2": 1.8e17}},
    }
    path = tmp_path / "day.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "plan.json"
    assert main(["solve", str(path), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("jessr: policy: priority weights") and "holds at most" in err
    assert not out.exists()
