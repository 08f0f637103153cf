"""The geographic front end (routing.regional): parts, repair, no dense matrix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import routing.problem
import routing.regional
from routing import GeoRoutingProblem, Shipment, SolveParams, Vehicle, solve
from tests.helpers.routing import assert_valid, geo_problem

# Small parts so even 300 shipments are split into several; in-process;
# bounded by iterations, so what the tests assert is carried does not depend
# on the machine's load (VROOM at the level its share of them buys).
SPLIT = SolveParams(
    iterations=100, vroom_exploration=None, part_size=60, decompose_above=100, workers=1
)


def test_forced_decomposition_gives_valid_routes_in_process() -> None:
    problem = geo_problem(1)
    result = solve(problem, replace(SPLIT, workers=2), seed=0)
    assert result.metrics.backend.startswith("regional(5+")
    carried = assert_valid(problem, result)
    assert len(carried) > 50


def test_same_seed_same_result_with_max_iterations() -> None:
    problem = geo_problem(2, shipments=80, vehicles=10)
    params = SolveParams(
        time_limit=20.0, part_size=30, decompose_above=50, workers=1, max_iterations=20
    )
    a = solve(problem, params, seed=3)
    b = solve(problem, params, seed=3)
    assert a.routes == b.routes
    assert a.dropped == b.dropped
    assert_valid(problem, a)


def test_no_dense_matrix_of_the_whole_day(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = geo_problem(3)
    sizes: list[int] = []
    real = routing.problem.great_circle_km

    def spy(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        sizes.append(len(lat))
        return real(lat, lon)

    monkeypatch.setattr(routing.problem, "great_circle_km", spy)
    # geographic_above below the location count: the day itself is "too big".
    params = SolveParams(time_limit=3.0, part_size=60, geographic_above=200, workers=1)
    result = solve(problem, params, seed=0)
    assert result.metrics.backend.startswith("regional")
    assert sizes, "parts build their matrices from coordinates"
    # Parts hold ~100 locations, greedy-repair chunks up to ~200; the day 360.
    assert max(sizes) < 0.75 * problem.num_locations
    monkeypatch.undo()
    assert_valid(problem, result)


def test_repair_serves_a_part_that_got_no_vehicles(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = geo_problem(4, shipments=200, vehicles=30)
    real = routing.regional.bisect
    calls: list[int] = []
    starved: set[int] = set()

    def starve_last_part(ship_xy: np.ndarray, veh_xy: np.ndarray, parts: int) -> list:
        regions = real(ship_xy, veh_xy, parts)
        calls.append(len(regions))
        if len(calls) == 1:  # round 1: the first region takes every vehicle
            starved.update(int(r) for r in regions[-1][0])
            regions = [
                (regions[0][0], np.arange(len(veh_xy))),
                *[(s, v[:0]) for s, v in regions[1:]],
            ]
        return regions

    monkeypatch.setattr(routing.regional, "bisect", starve_last_part)
    result = solve(problem, SPLIT, seed=0)
    carried = assert_valid(problem, result)
    # Round-1 rows are positions among the shipments some vehicle can carry.
    _, reasons = routing.regional.geo_alone_feasibility(problem)
    active = [s.id for s, r in zip(problem.shipments, reasons, strict=True) if r is None]
    starved_ids = {active[row] for row in starved}
    assert calls[0] >= 2 and starved_ids
    assert carried & starved_ids, "repair carried shipments of the vehicle-less part"


def test_depot_loaded_deliveries_in_geographic_parts() -> None:
    base = geo_problem(4, shipments=120, vehicles=12)
    ships = tuple(
        replace(s, pickup=None) if k % 2 == 0 else s for k, s in enumerate(base.shipments)
    )
    problem = replace(base, shipments=ships)
    result = solve(problem, SPLIT, seed=0)
    assert result.metrics.backend.startswith("regional(")
    carried = assert_valid(problem, result)
    assert any(problem.shipments[problem.shipment_index(s)].pickup is None for s in carried)


def two_sided_day() -> GeoRoutingProblem:
    """Ten shipments west (lon ~8.7) and ten east (lon ~10.9) at lat 36.

    The cut falls near lon 9.8. Volunteer ``X`` lives west of it (lon 9.7)
    but can only carry east shipments: the west ones weigh 200, its capacity
    is 100, and its long shift reaches the east depot. ``W0``/``W1`` (west)
    and ``E0`` (east) have short shifts and reach only their own side;
    ``E1`` lives just east of the cut and reaches both.
    """
    lon = [8.65, 8.75, 9.7, 10.85, 9.9, 8.7, 10.9]  # W0 W1 X E0 E1, depots W, E
    vehicles = [
        Vehicle("W0", 0, 0, capacity=400.0, shift=(480.0, 720.0), speed=40 / 60),
        Vehicle("W1", 1, 1, capacity=400.0, shift=(480.0, 720.0), speed=40 / 60),
        Vehicle("X", 2, 2, capacity=100.0, shift=(480.0, 1380.0), speed=40 / 60),
        Vehicle("E0", 3, 3, capacity=400.0, shift=(480.0, 720.0), speed=40 / 60),
        Vehicle("E1", 4, 4, capacity=400.0, shift=(480.0, 1380.0), speed=40 / 60),
    ]
    ships = []
    for side, depot, base in (("w", 5, 8.7), ("e", 6, 10.9)):
        for k in range(10):
            lon.append(base + 0.01 * (k - 5))
            ships.append(
                Shipment(
                    f"{side}{k}",
                    pickup=depot,
                    delivery=len(lon) - 1,
                    load=200.0 if side == "w" else 30.0,
                    value=2.0,
                    delivery_service=2.0,
                )
            )
    lat = np.array([36.0 + 0.005 * (i % 3) for i in range(len(lon))])
    return GeoRoutingProblem(lat, np.array(lon), 1.3, vehicles, ships, stop_time=2.0)


def _region_vehicles(
    problem: GeoRoutingProblem, regions: list[tuple[np.ndarray, np.ndarray]]
) -> dict[str, set[str]]:
    """Vehicle ids per side ("w"/"e") of a two-region cut of :func:`two_sided_day`."""
    out = {}
    for s, v in regions:
        sides = {problem.shipments[int(k)].id[0] for k in s}
        assert len(sides) == 1, "the shipment cut separates the sides"
        out[sides.pop()] = {problem.vehicles[int(i)].id for i in v}
    return out


def test_vehicles_go_to_the_region_they_can_serve() -> None:
    problem = two_sided_day()
    feasible, reasons = routing.regional.geo_alone_feasibility(problem)
    x = 2
    assert not feasible[x, :10].any() and feasible[x, 10:].all()
    ships = np.flatnonzero([r is None for r in reasons])
    vehs = np.arange(len(problem.vehicles))
    by_reach = routing.regional.cut_by_reach(problem, feasible, ships, vehs, 2)
    assert _region_vehicles(problem, by_reach) == {"w": {"W0", "W1", "E1"}, "e": {"E0", "X"}}
    # By home alone, X would sit in the west part with nothing it can carry.
    ship_xy = np.array([[problem.lon[s.delivery], 0.0] for s in problem.shipments])
    veh_xy = np.array([[problem.lon[v.start], 0.0] for v in problem.vehicles])
    by_home = routing.regional.bisect(ship_xy, veh_xy, 2)
    assert _region_vehicles(problem, by_home)["w"] == {"W0", "W1", "X"}


def test_reach_cut_delivers_at_least_the_home_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = two_sided_day()
    params = SolveParams(
        iterations=50, vroom_exploration=None, part_size=10, decompose_above=15, workers=1
    )
    by_reach = solve(problem, params, seed=0)
    assert by_reach.metrics.backend.startswith("regional(2+")
    assert_valid(problem, by_reach)

    def by_home(
        problem: GeoRoutingProblem,
        feasible: np.ndarray,
        ships: np.ndarray,
        vehs: np.ndarray,
        count: int,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        ship_xy = routing.regional.midpoints_km(problem, ships)
        veh_xy = routing.regional.planar_km(
            problem, np.array([problem.vehicles[v].start for v in vehs])
        )
        return routing.regional.bisect(ship_xy, veh_xy, count)

    monkeypatch.setattr(routing.regional, "cut_by_reach", by_home)
    home = solve(problem, params, seed=0)
    assert_valid(problem, home)
    assert by_reach.metrics.delivered_value >= home.metrics.delivered_value


def test_min_parts_asks_for_more_smaller_parts() -> None:
    problem = geo_problem(2, shipments=120, vehicles=12)
    assert routing.regional.part_count(120, 12, SPLIT) == 2
    assert routing.regional.part_count(120, 12, replace(SPLIT, min_parts=4)) == 4
    assert routing.regional.part_count(120, 3, replace(SPLIT, min_parts=4)) == 3
    result = solve(problem, replace(SPLIT, min_parts=4), seed=0)
    assert result.metrics.backend.startswith("regional(4+")
    assert_valid(problem, result)


@pytest.mark.parametrize("bad", [0, -1, True, 2.0])
def test_min_parts_is_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="min_parts"):
        SolveParams(min_parts=bad)  # type: ignore[arg-type]


def test_reach_cut_is_deterministic() -> None:
    problem = geo_problem(5, shipments=150, vehicles=15)
    params = replace(SPLIT, min_parts=3)
    a = solve(problem, params, seed=7)
    b = solve(problem, params, seed=7)
    assert a.metrics.backend == b.metrics.backend
    assert a.routes == b.routes
    assert a.dropped == b.dropped
