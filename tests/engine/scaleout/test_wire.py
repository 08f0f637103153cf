"""``engine.wire``: solver values cross hosts exactly, and nothing else crosses."""

from __future__ import annotations

import json
import zlib
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import matching
from engine import wire
from engine.allocation import matching_problem
from engine.dispatch import routing_problem
from engine.parts import kind_of, kinds
from engine.remote import CeleryExecutor
from routing import SolveParams
from routing.parallel import solve_part
from tests.engine.scaleout.conftest import small_day


def test_a_routing_part_and_its_answer_round_trip_exactly() -> None:
    day = small_day(requests=120, volunteers=6)
    from engine.solve import allocate

    outcome = allocate(day)
    problem = routing_problem(day, outcome.plan.allocations, outcome.values).problem
    params = SolveParams(iterations=5, time_limit=3.0, backends=("vroom",), shares=(1.0,))
    back = wire.loads(wire.dumps((problem, params, 7, None)))
    assert back[1:] == (params, 7, None)
    assert back[0].vehicles == problem.vehicles and back[0].shipments == problem.shipments
    assert np.array_equal(back[0].lat, problem.lat) and np.array_equal(back[0].lon, problem.lon)
    assert back[0].lat.dtype == problem.lat.dtype
    answer = solve_part(problem, params, 7)
    again = wire.loads(wire.dumps(answer))
    assert again == answer  # every route, stop, float and enum


class _Capture(Executor):
    """Runs each call here, keeping its arguments (what a worker would receive)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls.append(args)
        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future


def test_category_arrays_round_trip_to_the_same_allocation() -> None:
    from matching.flow import solve_category

    day = small_day(requests=200, volunteers=0)
    capture = _Capture()
    matching.solve(
        matching_problem(day, frozenset()),
        matching.MatchingParams(parallel_min_needs=0),
        executor=capture,
    )
    assert capture.calls
    for (arrays,) in capture.calls:
        back = wire.loads(wire.dumps(arrays))
        mine, theirs = solve_category(arrays), solve_category(back)
        for name in ("lot_index", "need_index", "quantity", "distance_km", "has_eligible"):
            assert np.array_equal(getattr(mine, name), getattr(theirs, name))
        assert wire.loads(wire.dumps(theirs)).eligible_pairs == mine.eligible_pairs


@dataclass(frozen=True)
class Secret:
    name: str


def test_classes_not_listed_neither_leave_nor_arrive() -> None:
    with pytest.raises(wire.WireError, match="may not travel"):
        wire.dumps(Secret("x"))
    with pytest.raises(wire.WireError, match="cannot travel"):
        wire.dumps(print)
    forged = {"$c": "os:system", "f": {"command": "true"}}
    with pytest.raises(wire.WireError, match="may not travel"):
        wire.loads(zlib.compress(json.dumps(forged).encode()))
    with pytest.raises(wire.WireError, match="not a wire payload"):
        wire.loads(b"\x80\x04 a pickle")


def test_only_the_listed_solver_functions_can_be_sent() -> None:
    assert set(kinds()) == {"routing.part", "matching.category", "routing.search"}
    assert kind_of(solve_part).name == "routing.part"
    with pytest.raises(TypeError, match="not a part a worker may run"):
        kind_of(print)


def test_a_search_deadline_travels_as_seconds_left() -> None:
    import time

    search = kinds()["routing.search"]
    deadline = time.monotonic() + 30
    args = (None, None, 1, deadline, None, 1, False)
    sent = search.outbound(args)
    assert 29 < sent[3] <= 30
    arrived = search.inbound(sent)
    assert abs(arrived[3] - deadline) < 1


def test_submitting_anything_else_is_refused(broker: str) -> None:
    executor = CeleryExecutor(broker, label="refuse")
    try:
        with pytest.raises(TypeError):
            executor.submit(print, "hello")
    finally:
        executor.shutdown()
