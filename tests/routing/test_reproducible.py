"""Iteration mode (``SolveParams.iterations``): bounded by work, never by the clock."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np
import pytest

import routing.portfolio
from routing import RoutingProblem, Shipment, SolveParams, Vehicle, solve
from routing.backends import BackendCall, pyvrp_backend, ruin
from routing.feasibility import alone_feasibility
from routing.portfolio import objective, solve_portfolio, to_routes, to_steps
from routing.result import RoutingResult
from tests.helpers.routing import assert_valid, geo_problem, random_problem

# The benchmark portfolio (VROOM, PyVRP, OR-Tools fallback), a Jessr day's,
# and OR-Tools alone.
BENCH = SolveParams(iterations=60)
DAY = SolveParams(
    backends=("vroom", "pyvrp"), shares=(0.85, 0.15), vroom_exploration=None, iterations=200
)
ORTOOLS = SolveParams(backends=("ortools",), shares=(1.0,), iterations=50)


def fleet_problem(seed: int, clients: int = 24) -> RoutingProblem:
    """A benchmark objective: one depot, identical vehicles with a fixed cost,
    every shipment required (the PyVRP backend's fleet phase, ejection and
    ruin-and-recreate searches run on it)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 40, size=(2 * clients + 1, 2))
    vehicles = [
        Vehicle(f"V{i}", 0, 0, capacity=40.0, shift=(0.0, 400.0), fixed_cost=1000.0)
        for i in range(8)
    ]
    ships = [
        Shipment(
            f"C{k}",
            pickup=None if k % 2 else clients + 1 + k,  # half depot-loaded, half pairs
            delivery=k + 1,
            load=float(rng.integers(5, 15)),
            value=1.0,
            pickup_service=5.0,
            delivery_service=5.0,
            required=True,
        )
        for k in range(clients)
    ]
    return RoutingProblem.from_euclidean(xy, vehicles, ships)


def same(a: RoutingResult, b: RoutingResult) -> None:
    """Equal plans: routes, drop reasons, value and distance (not the seconds taken)."""
    assert a.routes == b.routes
    assert a.dropped == b.dropped
    assert a.status == b.status
    assert a.metrics.delivered_value == b.metrics.delivered_value
    assert a.metrics.distance == b.metrics.distance
    assert a.metrics.backend == b.metrics.backend


@pytest.mark.parametrize("bad", [0, -3, True, 2.5, "10"])
def test_iterations_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="iterations"):
        SolveParams(iterations=bad)  # type: ignore[arg-type]


@pytest.fixture
def runaway_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that jumps an hour at every look: any deadline read has passed."""
    ticks = itertools.count()
    monkeypatch.setattr(time, "monotonic", lambda: 3600.0 * next(ticks))


@pytest.mark.parametrize("params", [BENCH, DAY, ORTOOLS], ids=["benchmark", "day", "ortools"])
def test_no_decision_reads_the_clock(params: SolveParams, monkeypatch: pytest.MonkeyPatch) -> None:
    # Time mode under this clock would skip every backend; iteration mode must
    # not notice it: same plan as with the real clock.
    problem = random_problem(11, shipments=30, vehicles=4)
    calm = solve(problem, params, seed=5)
    ticks = itertools.count()
    monkeypatch.setattr(time, "monotonic", lambda: 3600.0 * next(ticks))
    rushed = solve(problem, params, seed=5)
    monkeypatch.undo()
    same(calm, rushed)
    assert rushed.metrics.backend in {"vroom", "pyvrp", "ortools"}
    assert_valid(problem, rushed)


def test_fleet_ejection_and_ruin_phases_ignore_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    real_fleet, real_ruin = pyvrp_backend.minimise_fleet, ruin.improve

    def fleet(*args, **kwargs):  # type: ignore[no-untyped-def]
        ran.append("fleet")
        return real_fleet(*args, **kwargs)

    def improve(*args, **kwargs):  # type: ignore[no-untyped-def]
        ran.append("ruin")
        return real_ruin(*args, **kwargs)

    monkeypatch.setattr(pyvrp_backend, "minimise_fleet", fleet)
    monkeypatch.setattr(ruin, "improve", improve)
    problem = fleet_problem(2)
    params = SolveParams(iterations=300, workers=1)
    calm = solve(problem, params, seed=1)
    assert ran == ["fleet", "ruin"]
    ticks = itertools.count()
    monkeypatch.setattr(time, "monotonic", lambda: 3600.0 * next(ticks))
    rushed = solve(problem, params, seed=1)
    monkeypatch.undo()
    same(calm, rushed)
    assert rushed.status.value == "feasible"  # every client served
    assert_valid(problem, rushed)


def test_the_clock_does_decide_in_time_mode(runaway_clock: None) -> None:
    # The test above can fail: the same clock does cut a time-mode solve short.
    problem = random_problem(11, shipments=30, vehicles=4)
    result = solve(problem, replace(DAY, iterations=None, time_limit=5.0), seed=5)
    assert result.metrics.backend == "insertion"


def test_backends_are_bounded_by_their_share_of_the_iterations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: dict[str, BackendCall] = {}
    real = routing.portfolio._backend

    def spy(name: str):  # type: ignore[no-untyped-def]
        def run(problem, im, call):  # type: ignore[no-untyped-def]
            calls[name] = call
            return real(name)(problem, im, call)

        return run

    monkeypatch.setattr(routing.portfolio, "_backend", spy)
    problem = random_problem(4, shipments=30, vehicles=4)
    params = replace(DAY, iterations=1000, workers=2)
    solve(problem, params, seed=0)
    assert set(calls) == {"vroom", "pyvrp"}
    assert calls["pyvrp"].max_iterations == 150  # its share, 15 %
    assert calls["vroom"].max_iterations == 850
    for call in calls.values():
        assert call.time_limit == float("inf")  # no clock
        assert call.threads == 1  # not the workers' count: threads would vary the plan
    assert calls["vroom"].vroom_exploration is not None  # a level, not chosen from time
    # A share of 0 is a fallback: it does not run while another backend succeeds.
    calls.clear()
    solve(problem, replace(BENCH, iterations=1000), seed=0)
    assert set(calls) == {"vroom", "pyvrp"}
    assert calls["pyvrp"].max_iterations == 950


def test_the_same_seed_replays_and_another_seed_searches_elsewhere() -> None:
    problem = random_problem(8, shipments=40, vehicles=5)
    params = replace(DAY, backends=("pyvrp",), shares=(1.0,), iterations=300)
    a, b = solve(problem, params, seed=1), solve(problem, params, seed=1)
    same(a, b)
    assert a.metrics.backend == "pyvrp"
    others = [solve(problem, params, seed=s).routes for s in (2, 3, 4)]
    assert any(routes != a.routes for routes in others)


def test_more_iterations_never_worse_on_a_small_case() -> None:
    # The bound: every shipment some vehicle could carry alone, delivered.
    # One PyVRP iteration stops short of it (the count bounds the work);
    # 2,000 reach it, and a plan cannot deliver more.
    problem = random_problem(1, shipments=10, vehicles=4)
    _, reasons = alone_feasibility(problem)
    bound = sum(s.value for s, r in zip(problem.shipments, reasons, strict=True) if r is None)
    params = replace(DAY, backends=("pyvrp",), shares=(1.0,))
    one = solve(problem, replace(params, iterations=1), seed=0)
    many = solve(problem, replace(params, iterations=2000), seed=0)
    assert_valid(problem, one)
    assert_valid(problem, many)
    assert one.metrics.delivered_value < bound
    assert many.metrics.delivered_value == pytest.approx(bound)


def test_regional_parts_replay_with_any_worker_count() -> None:
    # Parts of ~40 shipments on two workers finish in any order; on one,
    # in turn: the plan is the same.
    problem = geo_problem(5, shipments=160, vehicles=16)
    params = SolveParams(
        part_size=40,
        decompose_above=60,
        iterations=30,
        backends=("vroom", "pyvrp"),
        shares=(0.85, 0.15),
        vroom_exploration=None,
    )
    serial = solve(problem, replace(params, workers=1), seed=2)
    parallel = solve(problem, replace(params, workers=2), seed=2)
    assert serial.metrics.backend.startswith("regional(4+")
    same(serial, parallel)
    assert_valid(problem, parallel)


def test_regional_ignores_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = geo_problem(6, shipments=120, vehicles=12)
    params = SolveParams(part_size=40, decompose_above=60, iterations=20, workers=1)
    calm = solve(problem, params, seed=0)
    ticks = itertools.count()
    monkeypatch.setattr(time, "monotonic", lambda: 3600.0 * next(ticks))
    rushed = solve(problem, params, seed=0)
    monkeypatch.undo()
    same(calm, rushed)
    assert calm.metrics.served > 0


def test_searches_replay_with_or_without_processes() -> None:
    # Two searches on a pool of two processes, or one after another here when
    # there is no executor (a daemonic worker, a threaded server): the same winner.
    from engine.executors import process_pool

    problem = random_problem(9, shipments=30, vehicles=4)
    params = SolveParams(iterations=80, searches=2, workers=2)
    with process_pool(2) as executor:
        assert executor is not None
        pooled = solve(problem, params, seed=4, executor=executor)
    here = solve(problem, params, seed=4)
    same(pooled, here)
    # The winner is at least as good as the caller's own search.
    own, _, _ = solve_portfolio(problem, replace(params, searches=1), 4, 0.0)
    won = to_routes(problem, to_steps(here))
    assert objective(problem, won) >= objective(problem, own)
