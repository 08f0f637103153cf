"""The geographic front end (routing.regional): parts, repair, no dense matrix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import routing.problem
import routing.regional
from routing import SolveParams, solve
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
