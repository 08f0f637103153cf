"""Independent searches in parallel processes: the best kept, failures ignored."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest

import routing.multistart as multistart
import routing.piece as piece
from routing import SolveParams, solve
from routing.backends import Routes
from routing.feasibility import alone_feasibility
from routing.parallel import solve_part
from routing.portfolio import solve_portfolio
from routing.problem import RoutingProblem
from tests.helpers.routing import assert_valid, random_problem

PARAMS = SolveParams(time_limit=3.0, workers=2, max_iterations=30)


@pytest.fixture(scope="module")
def problem() -> RoutingProblem:
    return random_problem(5, shipments=10, vehicles=2)


@pytest.fixture(scope="module")
def full(problem: RoutingProblem) -> Routes:
    """A real portfolio plan of ``problem`` with at least two shipments served."""
    # Bounded by iterations (no clock): the same plan however loaded the machine.
    counted = replace(PARAMS, iterations=30)
    routes, _, _ = solve_portfolio(problem, counted, 0, time.monotonic() + 2.0, threads=1)
    assert sum(len(nodes) for nodes in routes.values()) >= 4
    return routes


def worse(routes: Routes) -> Routes:
    """``routes`` without its first shipment: still valid, strictly less value."""
    first = next(c >> 1 for nodes in routes.values() for c in nodes)
    out = {v: [c for c in nodes if c >> 1 != first] for v, nodes in routes.items()}
    return {v: nodes for v, nodes in out.items() if nodes}


def fake_portfolio(problem: RoutingProblem, by_seed: dict[int, object]):
    """A stand-in for the portfolio: routes (or a behaviour) chosen by seed."""
    _, reasons = alone_feasibility(problem)

    def run(problem, params, seed, deadline, initial=None, threads=1):
        what = by_seed[seed]
        if what == "raise":
            raise RuntimeError(f"search {seed} broke")
        if what == "die":
            os._exit(3)  # the process vanishes without a word
        if what == "hang":
            time.sleep(60)
        if isinstance(what, tuple):  # (routes, seconds late): overruns the deadline
            what, late = what
            time.sleep(max(0.0, deadline - time.monotonic()) + late)
        return what, f"seed{seed}", reasons

    return run


@pytest.mark.parametrize("good", [0, 1, 2])
def test_the_best_search_is_kept_whichever_process_ran_it(
    monkeypatch: pytest.MonkeyPatch,
    problem: RoutingProblem,
    full: Routes,
    pool: ProcessPoolExecutor,
    good: int,
) -> None:
    by_seed = {s: (full if s == good else worse(full)) for s in range(3)}
    monkeypatch.setattr(multistart, "solve_portfolio", fake_portfolio(problem, by_seed))
    routes, winner, _ = multistart.solve_searches(
        problem, PARAMS, 0, time.monotonic() + 2.0, None, searches=3, executor=pool
    )
    assert routes == full
    assert winner == f"seed{good}"


@pytest.mark.parametrize("good", [0, 1, 2])
def test_without_an_executor_the_searches_run_here_with_the_same_outcome(
    monkeypatch: pytest.MonkeyPatch, problem: RoutingProblem, full: Routes, good: int
) -> None:
    by_seed = {s: (full if s == good else worse(full)) for s in range(3)}
    by_seed[3] = "raise"  # a failing search is ignored here too
    monkeypatch.setattr(multistart, "solve_portfolio", fake_portfolio(problem, by_seed))
    routes, winner, _ = multistart.solve_searches(
        problem, PARAMS, 0, time.monotonic() + 2.0, None, searches=4, executor=None
    )
    assert (routes, winner) == (full, f"seed{good}")


def test_equal_searches_keep_this_process_own_result(
    monkeypatch: pytest.MonkeyPatch,
    problem: RoutingProblem,
    full: Routes,
    pool: ProcessPoolExecutor,
) -> None:
    # Ties go to the lowest seed, so max_iterations runs stay reproducible.
    by_seed = {0: full, 1: dict(full)}
    monkeypatch.setattr(multistart, "solve_portfolio", fake_portfolio(problem, by_seed))
    _, winner, _ = multistart.solve_searches(
        problem, PARAMS, 0, time.monotonic() + 2.0, None, searches=2, executor=pool
    )
    assert winner == "seed0"


@pytest.mark.parametrize("failure", ["raise", "die", "hang"])
def test_a_failed_dead_or_late_search_leaves_this_process_result(
    monkeypatch: pytest.MonkeyPatch,
    problem: RoutingProblem,
    full: Routes,
    pool: ProcessPoolExecutor,
    failure: str,
) -> None:
    by_seed = {0: worse(full), 1: failure}
    monkeypatch.setattr(multistart, "solve_portfolio", fake_portfolio(problem, by_seed))
    started = time.monotonic()
    routes, winner, _ = multistart.solve_searches(
        problem, PARAMS, 0, started + 1.0, None, searches=2, executor=pool
    )
    assert (routes, winner) == (worse(full), "seed0")
    # A hanging search is not waited for past the deadline plus the grace.
    assert time.monotonic() - started < 1.0 + multistart.GRACE_SECONDS + 5.0
    if failure == "hang":  # an executor cannot stop it: end its worker here
        for child in multiprocessing.active_children():
            child.kill()


def test_a_search_as_late_as_this_process_is_still_heard(
    monkeypatch: pytest.MonkeyPatch,
    problem: RoutingProblem,
    full: Routes,
    pool: ProcessPoolExecutor,
) -> None:
    # Both overrun the deadline by well over the grace (PyVRP's last
    # iteration on a large instance), the other a little more: its better
    # plan still counts.
    late = 3 * multistart.GRACE_SECONDS
    by_seed = {0: (worse(full), late), 1: (full, late + multistart.GRACE_SECONDS / 2)}
    monkeypatch.setattr(multistart, "solve_portfolio", fake_portfolio(problem, by_seed))
    routes, winner, _ = multistart.solve_searches(
        problem, PARAMS, 0, time.monotonic() + 1.0, None, searches=2, executor=pool
    )
    assert (routes, winner) == (full, "seed1")


def test_two_searches_are_valid_reproducible_and_never_worse_than_one(
    problem: RoutingProblem, pool: ProcessPoolExecutor
) -> None:
    two = SolveParams(workers=2, searches=2, iterations=30)
    one = SolveParams(workers=1, searches=1, iterations=30)
    first = solve(problem, two, seed=4, executor=pool)
    again = solve(problem, two, seed=4, executor=pool)
    alone = solve(problem, one, seed=4)
    assert_valid(problem, first)
    assert first.routes == again.routes
    # Search 0 of the two is the one-search run (same seed, one VROOM thread).
    key = (first.metrics.delivered_value, -first.metrics.distance)
    assert key >= (alone.metrics.delivered_value, -alone.metrics.distance)


def test_solve_runs_the_searches_only_when_asked_and_given_an_executor(
    monkeypatch: pytest.MonkeyPatch, problem: RoutingProblem, pool: ProcessPoolExecutor
) -> None:
    calls: list[int] = []
    real = piece.solve_searches

    def spy(*args, **kwargs):
        calls.append(args[5])
        return real(*args, **kwargs)

    monkeypatch.setattr(piece, "solve_searches", spy)
    solve(problem, SolveParams(time_limit=1.0, max_iterations=10), seed=0, executor=pool)
    assert calls == []
    two = SolveParams(time_limit=1.0, max_iterations=10, searches=2)
    solve(problem, two, seed=0, executor=pool)
    assert calls == [2]
    # In-process: this process's search only (same as searches=1, same seed).
    alone = solve(problem, two, seed=0)
    assert calls == [2]
    one = solve(problem, SolveParams(time_limit=1.0, max_iterations=10), seed=0)
    assert alone.routes == one.routes
    # A part of the decomposition already has its own core: one search.
    solve_part(problem, two, seed=0)
    assert calls == [2]


def test_searches_are_validated() -> None:
    with pytest.raises(ValueError, match="searches >= 1"):
        SolveParams(searches=0)


def test_searches_start_cold_only_on_distance_only_problems() -> None:

    prizes = random_problem(7, shipments=6, vehicles=2)
    required = random_problem(7, shipments=6, vehicles=2, required=True)
    costly = replace(
        required, vehicles=tuple(replace(v, fixed_cost=100.0) for v in required.vehicles)
    )
    assert all(v.fixed_cost == 0 for v in required.vehicles)
    params = SolveParams(time_limit=2.0, workers=2, searches=2)
    cold = multistart.search_params(required, params)
    assert cold.backends == ("pyvrp", "ortools") and cold.shares == (0.95, 0.0)
    # Prizes or vehicle costs: the warm start stays.
    assert multistart.search_params(prizes, params) == params
    assert multistart.search_params(costly, params) == params
    # VROOM alone stays VROOM.
    alone = SolveParams(time_limit=2.0, backends=("vroom",), searches=2)
    assert multistart.search_params(required, alone) == alone


def test_two_searches_on_a_distance_only_problem_are_valid_and_never_worse() -> None:
    problem = random_problem(8, shipments=10, vehicles=3, required=True)
    one = solve(problem, SolveParams(workers=2, iterations=30), seed=0)
    two = solve(problem, SolveParams(workers=2, iterations=30, searches=2), seed=0)
    assert_valid(problem, two)
    key = (two.metrics.served, round(two.metrics.delivered_value, 6), -two.metrics.distance)
    assert key >= (one.metrics.served, round(one.metrics.delivered_value, 6), -one.metrics.distance)


def test_every_second_search_has_a_patient_fleet_phase() -> None:
    params = SolveParams(time_limit=2.0, workers=2, searches=3)
    assert not params.patient_fleet
    assert [multistart.child_params(params, i).patient_fleet for i in (1, 2, 3)] == [
        True,
        False,
        True,
    ]


def test_the_patient_search_runs_on_the_executor_and_can_win(
    monkeypatch: pytest.MonkeyPatch,
    problem: RoutingProblem,
    full: Routes,
    pool: ProcessPoolExecutor,
) -> None:
    # Only a patient search finds the full plan: it must be the one with seed 1.
    _, reasons = alone_feasibility(problem)

    def run(problem, params, seed, deadline, initial=None, threads=1):
        return (full if params.patient_fleet else worse(full)), f"seed{seed}", reasons

    monkeypatch.setattr(multistart, "solve_portfolio", run)
    routes, winner, _ = multistart.solve_searches(
        problem, PARAMS, 0, time.monotonic() + 2.0, None, searches=3, executor=pool
    )
    assert (routes, winner) == (full, "seed1")


def test_patience_reaches_the_fleet_phase(monkeypatch: pytest.MonkeyPatch) -> None:

    import routing.backends.pyvrp_backend as pyvrp_backend

    # The fleet phase runs on benchmark-like problems: one vehicle type, a
    # fixed cost above any route, every shipment required and servable.
    base = random_problem(7, shipments=6, vehicles=3, required=True)
    v0 = replace(base.vehicles[0], capacity=100.0, shift=(480.0, 720.0), fixed_cost=1e6)
    costly = replace(
        base,
        vehicles=tuple(replace(v0, id=f"V{i}") for i in range(3)),
        shipments=tuple(replace(s, delivery_window=(480.0, 720.0)) for s in base.shipments),
    )
    assert all(r is None for r in alone_feasibility(costly)[1])
    asked: list[bool] = []

    def fleet(data, warm, seconds, seed, params, max_iterations=None, patient=False):
        asked.append(patient)
        return data, warm

    monkeypatch.setattr(pyvrp_backend, "minimise_fleet", fleet)
    for patient in (False, True):
        params = SolveParams(
            time_limit=2.0, backends=("vroom", "pyvrp"), max_iterations=20, patient_fleet=patient
        )
        solve_portfolio(costly, params, 0, time.monotonic() + 2.0, threads=1)
    assert asked == [False, True]
