"""Search records (``RoutingResult.record``) replay a time-limited solve.

Every path of :func:`routing.solve` is run time-limited, its record sent
through JSON, and replayed with ``SolveParams(replay=record)``: the same
routes and drops, whatever the clock says during the replay.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from routing import SolveParams, parallel, solve
from routing.backends import pyvrp_backend
from routing.problem import GeoRoutingProblem, RoutingProblem
from routing.result import RoutingResult
from tests.routing.conftest import random_problem
from tests.routing.test_regional import geo_problem

DAY = SolveParams(
    time_limit=2.0, backends=("vroom", "pyvrp"), shares=(0.85, 0.15), vroom_exploration=None
)


def same(a: RoutingResult, b: RoutingResult) -> None:
    assert a.routes == b.routes
    assert a.dropped == b.dropped
    assert a.metrics.delivered_value == b.metrics.delivered_value


def through_json(result: RoutingResult) -> dict:
    assert result.record is not None
    return json.loads(json.dumps(result.record))


def jump_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on a monotonic clock an hour further on at every reading:
    any deadline a replay consulted would have passed, changing its plan."""
    real = time.monotonic
    count = iter(range(1, 10**9))
    monkeypatch.setattr(time, "monotonic", lambda: real() + 3600.0 * next(count))


def replay(problem: RoutingProblem | GeoRoutingProblem, params: SolveParams, seed: int):
    first = solve(problem, params, seed=seed)
    return first, replace(params, replay=through_json(first))


def test_one_piece_replays_pyvrp_by_its_iterations(
    monkeypatch: pytest.MonkeyPatch, vroom_calls: list
) -> None:
    problem = random_problem(0, 90, vehicles=3)
    first, params = replay(problem, replace(DAY, time_limit=4.0, shares=(0.5, 0.5)), 3)
    runs = first.record["portfolio"]["runs"]
    assert [r["backend"] for r in runs] == ["vroom", "pyvrp"]
    assert runs[1]["iterations"] > 0 and "routes" in runs[0]
    calls: list[int | None] = []
    solve_pyvrp = pyvrp_backend.solve_pyvrp

    def spy(problem, im, call):  # type: ignore[no-untyped-def]
        calls.append(call.max_iterations)
        return solve_pyvrp(problem, im, call)

    monkeypatch.setattr(pyvrp_backend, "solve_pyvrp", spy)
    jump_clock(monkeypatch)
    del vroom_calls[:]
    again = solve(problem, params, seed=3)
    same(first, again)
    assert calls == [runs[1]["iterations"]]  # PyVRP searched again, as long as before
    assert vroom_calls == []  # VROOM's timed search is not re-run: its routes are the record


def test_independent_searches_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = random_problem(1, 60, vehicles=3)
    params = replace(DAY, searches=2, workers=2)
    with ThreadPoolExecutor(1) as pool:
        first = solve(problem, params, seed=0, executor=pool)
    record = through_json(first)
    assert [s["seed"] for s in record["searches"]] == [0, 1]
    jump_clock(monkeypatch)
    # Without an executor the answered searches run here, one after another.
    same(first, solve(problem, replace(params, replay=record), seed=0))


def test_a_search_that_did_not_answer_stays_out_of_the_replay() -> None:
    problem = random_problem(1, 40, vehicles=2)
    params = replace(DAY, searches=2, workers=2)
    with ThreadPoolExecutor(1) as pool:
        first = solve(problem, params, seed=0, executor=pool)
    record = through_json(first)
    record["searches"][1]["answered"] = False
    record["searches"][1]["portfolio"] = None
    # Search 0's own plan: what the recorded run would have kept alone.
    alone = solve(problem, replace(params, replay=record), seed=0)
    solo = dict(record, searches=record["searches"][:1])
    same(alone, solve(problem, replace(params, replay=solo), seed=0))


def test_decomposed_parts_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = random_problem(2, 120, vehicles=6)
    params = replace(DAY, time_limit=4.0, decompose_above=50, part_size=40, workers=1)
    first, again = replay(problem, params, 1)
    assert first.record["path"] == "decomposed" and len(first.record["parts"]) >= 2
    jump_clock(monkeypatch)
    same(first, solve(problem, again, seed=1))


def test_regional_parts_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = geo_problem(4, shipments=150, vehicles=12, depots=10)
    params = replace(DAY, time_limit=5.0, decompose_above=60, part_size=50, workers=1)
    first, again = replay(problem, params, 2)
    assert first.record["path"] == "regional" and len(first.record["round1"]) >= 2
    jump_clock(monkeypatch)
    same(first, solve(problem, again, seed=2))


def test_a_part_not_started_in_time_is_left_out_of_the_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = random_problem(2, 120, vehicles=6)
    params = replace(DAY, time_limit=4.0, decompose_above=50, part_size=40, workers=1)
    record = through_json(solve(problem, params, seed=0))
    rows = record["parts"]
    rows[-1] = {"part": len(rows) - 1, "status": "not_started", "record": None}
    solved: list[int] = []
    solve_part = parallel.solve_part

    def spy(part, params, seed, initial=None):  # type: ignore[no-untyped-def]
        solved.append(len(part.shipments))
        return solve_part(part, params, seed, initial)

    monkeypatch.setattr(parallel, "solve_part", spy)
    out = solve(problem, replace(params, replay=record), seed=0)
    assert len(solved) == len(rows) - 1  # the late part is not solved in the replay
    assert out.routes  # the others' routes stand


def test_a_record_that_does_not_fit_is_refused() -> None:
    small = random_problem(0, 20)
    first = solve(small, DAY, seed=0)
    record = through_json(first)
    with pytest.raises(ValueError, match="replay: the search record is of a 'piece' solve"):
        solve(small, replace(DAY, decompose_above=5, part_size=5, replay=record), seed=0)
    with pytest.raises(ValueError, match="version"):
        SolveParams(replay=dict(record, version=99))
    with pytest.raises(ValueError, match="not both"):
        SolveParams(replay=record, iterations=10)
    runs = record["portfolio"]["runs"]
    vroom_run = next(r for r in runs if "routes" in r)
    vroom_run["routes"] = [[0, [10_000]]]
    with pytest.raises(ValueError, match="do not fit"):
        solve(small, replace(DAY, replay=record), seed=0)


def test_iteration_mode_has_no_record() -> None:
    assert solve(random_problem(0, 10), replace(DAY, iterations=20), seed=0).record is None
