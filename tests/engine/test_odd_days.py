"""Odd days end to end: whatever the scenario's corners, the plan is valid.

The exchange format is tested from outside with days nobody here has seen,
so these are days built to hit its corners at once: many stops at one
place (shared visits, pickups at a volunteer's home), windows of zero
length or ending at 24:00, shifts of zero length or the whole day,
coordinates across the antimeridian and near a pole, zero stop or unit
minutes, weightless and very heavy categories (loads heavier than any
vehicle travel in pieces), expired and region-restricted supplies. Each
plan goes through the independent checker (``engine.checker``): the spec's
validity rules, and every unrouted allocation with one of the reasons
the README lists. A reason that says no volunteer could carry the allocation
even alone is verified with the checker too, on the one-visit-each route of
every volunteer; since a lot and a household at the same coordinates are two
visits there, many places shared by lots and households must not leave such
pairs behind.
"""

from __future__ import annotations

import random

import pytest

from engine.checker import check_plan
from engine.params import DayParams
from engine.scenario.model import Scenario
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict
from engine.solve import solve_scenario
from routing.result import DropReason
from tests.helpers.days import clock, scenario_doc

# Reasons that claim no volunteer could carry the allocation even alone.
ALONE_IMPOSSIBLE = {"outside_shift", "window", "too_heavy", "unreachable"}
# Every reason the README lists (test_engine_api pins the enum to them).
REASONS = {reason.value for reason in DropReason}
# Places the days are built around: Tunis, the antimeridian, near the pole.
CENTRES = ((36.8065, 10.1815), (0.0, 179.995), (89.95, 0.0))


def odd_day(seed: int) -> dict:
    """A small scenario (exchange format) with several corners of the format at once."""
    rng = random.Random(seed)
    lat0, lon0 = CENTRES[seed % len(CENTRES)]
    # Few places for many records: most visits are shared by several stops.
    spread = rng.choice((0.01, 0.1))
    places = [
        (
            max(-90.0, min(90.0, lat0 + rng.uniform(-spread, spread))),
            (lon0 + rng.uniform(-spread, spread) + 180.0) % 360.0 - 180.0,
        )
        for _ in range(rng.randint(3, 6))
    ]
    categories = [
        {"id": "light", "unit": "kit", "weight_kg": rng.choice((0.01, 1.0))},
        {"id": "heavy", "unit": "sack", "weight_kg": rng.choice((25.0, 300.0))},
    ]

    def placed(rid: str, quantities: tuple[int, ...], region: str) -> dict:
        """A supply's or request's common fields, at one of the day's places."""
        lat, lon = rng.choice(places)
        kind = rng.choice(("light", "heavy"))
        return {
            "id": rid,
            "category": kind,
            "quantity": rng.choice(quantities),
            "lat": lat,
            "lon": lon,
            "region": region,
        }

    supplies = []
    for i in range(rng.randint(1, 5)):
        s = placed(f"S{i}", (1, 3, 20), "TN-11")
        if rng.random() < 0.2:
            s["expires"] = rng.choice(("2026-11-27", "2026-11-28"))
        if rng.random() < 0.2:
            s["regions"] = [rng.choice(("TN-11", "TN-12"))]
        supplies.append(s)
    requests = []
    for i in range(rng.randint(1, 14)):
        r = placed(f"R{i}", (1, 1, 2, 6), rng.choice(("TN-11", "TN-12")))
        r["priority"] = rng.randint(1, 5)
        r["filed"] = rng.choice(("2026-10-01", "2026-11-28", "2026-12-01"))
        if rng.random() < 0.5:
            start = rng.choice((0, 540, 720, 1440))
            r["window"] = [clock(start), clock(start + rng.choice((0, 15, 240)))]
        requests.append(r)
    volunteers = []
    for i in range(rng.randint(1, 3)):
        lat, lon = rng.choice(places)
        start = rng.choice((0, 480, 600))
        volunteers.append(
            {
                "id": f"V{i}",
                "lat": lat,
                "lon": lon,
                "capacity_kg": rng.choice((20, 400, 2000)),
                "shift": [clock(start), clock(start + rng.choice((0, 240, 1440)))],
                "speed_kmh": rng.choice((5, 30, 90)),
            }
        )
    policy = {
        "stop_minutes": rng.choice((0, 5, 30)),
        "unit_minutes": rng.choice((0, 0.5, 5)),
        "road_factor": rng.choice((1.0, 1.3)),
    }
    return scenario_doc(
        categories=categories,
        supplies=supplies,
        requests=requests,
        volunteers=volunteers,
        policy=policy,
    )


SEEDS = range(12)
# Routing bounded by work: how many days get routes does not depend on the load.
ITERATIONS = 50


def carried_alone(scenario: Scenario, allocation: dict, volunteer: str) -> bool:
    """Whether ``volunteer`` could carry ``allocation`` on a route of its own,
    as the checker sees it: home, the supply, the request, home."""
    supply = next(s for s in scenario.supplies if s.id == allocation["supply"])
    request = next(r for r in scenario.requests if r.id == allocation["request"])
    aid = allocation["id"]
    plan = {
        "allocations": [allocation],
        "routes": [
            {
                "volunteer": volunteer,
                "visits": [
                    {"lat": supply.lat, "lon": supply.lon, "pickups": [aid], "deliveries": []},
                    {"lat": request.lat, "lon": request.lon, "pickups": [], "deliveries": [aid]},
                ],
            }
        ],
    }
    # Rule 6 (the request's other units) says nothing about this route.
    report = check_plan(scenario, plan)
    return not [v for v in report.violations if not v.startswith("rule 6")]


def test_odd_days_give_valid_plans() -> None:
    routed = 0
    for seed in SEEDS:
        scenario = parse_scenario(odd_day(seed))
        outcome = solve_scenario(scenario, DayParams(iterations=ITERATIONS, workers=1, seed=seed))
        plan = plan_to_dict(outcome.plan)
        report = check_plan(scenario, plan)
        assert report.valid, (seed, report.violations[:5])
        carried = {a for r in plan["routes"] for v in r["visits"] for a in v["deliveries"]}
        left = [u["allocation"] for u in plan["unrouted"]]
        assert {u["reason"] for u in plan["unrouted"]} <= REASONS, seed
        allocations = {a["id"]: a for a in plan["allocations"]}
        for u in plan["unrouted"]:
            alone = [
                carried_alone(scenario, allocations[u["allocation"]], v.id)
                for v in scenario.volunteers
            ]
            if u["reason"] in ALONE_IMPOSSIBLE:
                assert not any(alone), (seed, u)
            elif u["reason"] == "no_volunteer_capacity":
                assert any(alone), (seed, u)
        assert sorted([*carried, *left]) == sorted(a["id"] for a in plan["allocations"]), seed
        assert report.delivered_value == pytest.approx(plan["metrics"]["delivered_value"]), seed
        routed += bool(plan["routes"])
    # Days where nothing can be routed would make the validity above say little.
    assert routed >= len(SEEDS) // 2
