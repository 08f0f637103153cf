"""Warm start (``routing.solve(..., initial=...)``): never below the initial plan."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing import SolveParams, solve, verify_route
from routing.portfolio import to_routes, to_steps
from tests.helpers.routing import assert_valid, geo_problem, random_problem

# Quality is compared between searches bounded by iterations, never by the
# clock: a good plan, then a weak search (one iteration, VROOM's lightest level)
# that does worse on its own and must not do worse warm-started from it.
GOOD = SolveParams(iterations=200)
WEAK = SolveParams(iterations=1, backends=("vroom",), vroom_exploration=1)
REGIONAL = SolveParams(
    iterations=100, vroom_exploration=None, part_size=60, decompose_above=100, workers=1
)


def test_steps_round_trip_and_unknown_ids_are_skipped() -> None:
    problem = random_problem(3, shipments=10, vehicles=3)
    result = solve(problem, GOOD, seed=0)
    steps = to_steps(result)
    routes = to_routes(problem, steps)
    again = to_steps(solve(problem, WEAK, seed=1, initial=steps))
    assert sum(len(n) for n in routes.values()) == sum(len(s) for s in steps.values())
    junk = {"nobody": [("A0", "pickup")], **{v: [*s, ("A99", "pickup")] for v, s in steps.items()}}
    assert to_routes(problem, junk) == routes
    assert again  # still routes something


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_portfolio_result_delivers_at_least_the_initial(seed: int) -> None:
    problem = random_problem(seed, shipments=30, vehicles=3)
    good = solve(problem, GOOD, seed=seed)
    warm = solve(problem, WEAK, seed=seed + 7, initial=to_steps(good))
    assert warm.metrics.delivered_value >= good.metrics.delivered_value - 1e-9
    for route in warm.routes:
        assert verify_route(problem, route) is None


def test_invalid_initial_is_repaired_not_trusted() -> None:
    problem = random_problem(4, shipments=12, vehicles=2)
    # Everything on one vehicle, in order: over capacity and shift for sure.
    steps = {"V0": [(s.id, kind) for s in problem.shipments for kind in ("pickup", "delivery")]}
    result = solve(problem, SolveParams(time_limit=0.5), seed=0, initial=steps)
    for route in result.routes:
        assert verify_route(problem, route) is None


def test_regional_result_delivers_at_least_the_initial() -> None:
    problem = geo_problem(5, shipments=240, vehicles=20)
    good = solve(problem, REGIONAL, seed=0)
    assert good.metrics.backend.startswith("regional(")
    short = replace(REGIONAL, iterations=1, vroom_exploration=1)
    warm = solve(problem, short, seed=3, initial=to_steps(good))
    assert_valid(problem, warm)
    assert warm.metrics.delivered_value >= good.metrics.delivered_value - 1e-9
