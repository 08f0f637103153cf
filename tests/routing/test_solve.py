"""End-to-end properties of routing.solve on small random problems."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import (
    RoutingProblem,
    Shipment,
    SolveParams,
    Status,
    Vehicle,
    check_route,
    solve,
)
from routing.feasibility import alone_feasibility
from tests.helpers.routing import assert_valid, insertion_value, random_problem

FAST = SolveParams(time_limit=0.6)
# Quality is asserted on searches bounded by work, never by the clock: the same
# routes on a loaded machine as on an idle one.
SEARCH = SolveParams(iterations=200)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), stop=st.sampled_from([0.0, 5.0]))
def test_random_problems_give_valid_routes_and_beat_insertion(seed: int, stop: float) -> None:
    problem = random_problem(seed, shipments=10, vehicles=2, stop_time=stop)
    result = solve(problem, SEARCH, seed=seed)
    assert_valid(problem, result)
    # Never worse than the plain greedy insertion baseline on delivered value.
    assert result.metrics.delivered_value >= insertion_value(problem) - 1e-9


def brute_force(problem: RoutingProblem) -> tuple[float, float]:
    """Best (value, -distance) over all assignments and orders (tiny problems)."""
    m, nv = len(problem.shipments), len(problem.vehicles)
    best = (0.0, 0.0)
    for assign in itertools.product(range(nv + 1), repeat=m):  # nv = dropped
        value, dist, ok = 0.0, 0.0, True
        for v in range(nv):
            ks = [k for k in range(m) if assign[k] == v]
            if not ks:
                continue
            nodes = [c for k in ks for c in (2 * k, 2 * k + 1)]
            lengths = [
                chk.distance
                for perm in itertools.permutations(nodes)
                if (chk := check_route(problem, v, perm)).feasible
            ]
            if not lengths:
                ok = False
                break
            dist += min(lengths)
            value += sum(problem.shipments[k].value for k in ks)
        if ok:
            best = max(best, (round(value, 9), -dist))
    return best


def test_small_case_reaches_the_brute_force_optimum() -> None:
    problem = random_problem(3, shipments=3, vehicles=2, stop_time=2.0)
    value, neg_dist = brute_force(problem)
    result = solve(problem, SEARCH, seed=0)
    assert_valid(problem, result)
    assert result.metrics.delivered_value == pytest.approx(value)
    # Integer models round distances to 0.001: allow that much per leg.
    assert result.metrics.distance == pytest.approx(-neg_dist, abs=0.02)


def test_same_seed_same_result_when_stopping_by_iterations() -> None:
    problem = random_problem(11, shipments=12, vehicles=3)
    params = SolveParams(time_limit=30.0, max_iterations=150)
    first = solve(problem, params, seed=5)
    second = solve(problem, params, seed=5)
    assert first.routes == second.routes and first.dropped == second.dropped


def test_drop_reasons_for_impossible_shipments() -> None:
    xy = np.array([(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (500.0, 0.0)])
    veh = Vehicle("V", 0, 0, 10.0, (0.0, 100.0))
    ships = (
        Shipment("ok", 1, 2, 1.0),
        Shipment("heavy", 1, 2, 11.0),
        Shipment("far", 1, 3, 1.0),
        Shipment("closed", 1, 2, 1.0, delivery_window=(0.0, 1.0)),
    )
    problem = RoutingProblem.from_euclidean(xy, (veh,), ships)
    result = solve(problem, FAST)
    assert_valid(problem, result)
    reasons = {d.shipment: d.reason for d in result.dropped}
    assert reasons == {"heavy": "too_heavy", "far": "outside_shift", "closed": "window"}
    assert result.status is Status.FEASIBLE


def test_no_vehicles_is_empty_and_required_unserved_is_no_solution() -> None:
    problem = random_problem(1, shipments=3, vehicles=1, required=True)
    empty = RoutingProblem(problem.distance, (), problem.shipments)
    res = solve(empty, FAST)
    assert res.status is Status.EMPTY and len(res.dropped) == 3
    tiny = Vehicle("V", 0, 0, 1.0, (480.0, 481.0))
    res = solve(RoutingProblem(problem.distance, (tiny,), problem.shipments), FAST)
    assert res.status is Status.NO_SOLUTION


@pytest.mark.parametrize("backend", ["pyvrp", "ortools", "vroom"])
def test_each_backend_alone_gives_valid_routes(
    backend: str, make_problem: Callable[..., RoutingProblem]
) -> None:
    problem = make_problem(7, shipments=9, vehicles=2, stop_time=5.0)
    result = solve(problem, SolveParams(iterations=50, backends=(backend,)), seed=1)
    assert_valid(problem, result)
    assert result.metrics.served > 0


def test_decomposition_gives_valid_routes() -> None:
    problem = random_problem(21, shipments=40, vehicles=6)
    params = SolveParams(iterations=50, decompose_above=20, part_size=15, workers=2)
    result = solve(problem, params, seed=0)
    assert_valid(problem, result)
    assert result.metrics.backend.startswith("decomposed")
    assert result.metrics.served > 0


@pytest.mark.parametrize("deadline_passed", [True, False])
def test_left_out_for_lack_of_time_says_so(
    monkeypatch: pytest.MonkeyPatch, deadline_passed: bool
) -> None:
    """When no backend finishes, the greedy fallback's leftovers say why: time or fleet."""
    import routing.piece
    import routing.portfolio

    problem = random_problem(3, shipments=8, vehicles=1)
    monkeypatch.setattr(routing.portfolio, "_plan_backends", lambda *a, **k: [])
    if deadline_passed:  # the whole limit already spent when the fallback starts
        monkeypatch.setattr(routing.piece, "finish_margin", lambda limit: limit)
    result = solve(problem, SolveParams(time_limit=5.0))
    assert_valid(problem, result)
    assert result.metrics.backend == "insertion"
    _, alone = alone_feasibility(problem)
    left = {d.shipment: d.reason for d in result.dropped}
    possible = {problem.shipments[k].id for k, r in enumerate(alone) if r is None}
    if deadline_passed:
        assert result.metrics.served == 0 and possible
        assert {left[s] for s in possible} == {"time_limit"}
    else:
        assert result.metrics.served > 0
        assert "time_limit" not in left.values()
