"""A day solved through real ``jessr worker`` processes: the same plan, and faults survived."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import matching
from engine.allocation import matching_problem
from engine.checker import check_plan
from engine.scenario.model import Scenario
from engine.scenario.writer import plan_to_dict
from tests.engine.scaleout.conftest import PARTS, Worker, small_day, solve_reporting

pytestmark = pytest.mark.slow


def _plan(outcome: Any) -> str:
    return json.dumps(plan_to_dict(outcome.plan), sort_keys=True)


def _valid(scenario: Scenario, outcome: Any) -> None:
    """The plan passes the independent checker, and every allocation is routed or listed."""
    doc = plan_to_dict(outcome.plan)
    report = check_plan(scenario, doc)
    assert report.valid, report.violations
    routed = {a for r in doc["routes"] for v in r["visits"] for a in v["deliveries"]}
    unrouted = {u["allocation"] for u in doc.get("unrouted", [])}
    assert {a["id"] for a in doc["allocations"]} <= routed | unrouted


@pytest.fixture(scope="module")
def day() -> Scenario:
    return small_day()


@pytest.fixture(scope="module")
def local_plan(day: Scenario) -> str:
    """The plan solved in this process, without a broker."""
    outcome, report = solve_reporting(day, PARTS, 1)
    assert report["executor"] == "in-process"
    return _plan(outcome)


def _started_on(url: str, worker: Worker, timeout: float = 60.0) -> str:
    """Wait until ``worker`` has started a part; its key."""
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for key in client.scan_iter("jessr:part:*:started"):
                if client.get(key).decode().startswith(worker.name):
                    return key.decode()
            time.sleep(0.05)
    finally:
        client.close()
    raise AssertionError("no part started on the worker")


def _solve_in_thread(day: Scenario, url: str) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["outcome"], box["report"] = solve_reporting(day, PARTS, 2, broker_url=url)
        except BaseException as exc:  # surfaced by the test
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def test_two_workers_give_the_in_process_plan(
    day: Scenario, local_plan: str, broker: str, start_worker: Callable[..., Worker]
) -> None:
    start_worker(broker)
    start_worker(broker)
    outcome, report = solve_reporting(day, PARTS, 2, broker_url=broker)
    assert report["executor"] == "celery" and report["workers"] == 2
    assert report["parts"] >= 4 and report["answered_by_workers"] == report["parts"]
    assert report["late"] == []
    _valid(day, outcome)
    assert _plan(outcome) == local_plan


def test_categories_through_workers_equal_in_process(
    day: Scenario, broker: str, start_worker: Callable[..., Worker]
) -> None:
    """The allocation's categories as tasks: the same exact allocation."""
    from engine.remote import CeleryExecutor

    start_worker(broker, concurrency=2)
    question = matching_problem(day, frozenset())
    every = matching.MatchingParams(parallel_min_needs=0)
    here = matching.solve(question, every)
    executor = CeleryExecutor(broker, label="categories")
    try:
        there = matching.solve(question, every, executor=executor)
        report = executor.report()
    finally:
        executor.shutdown()
    categories = {n.category for n in question.needs}
    assert len(categories) > 1 and report["answered_by_workers"] == len(categories)
    assert there.allocations == here.allocations and there.unmet == here.unmet


def test_a_worker_killed_mid_part_costs_nothing(
    day: Scenario, local_plan: str, broker: str, start_worker: Callable[..., Worker]
) -> None:
    """SIGKILL a whole worker while it solves a part: its part is taken back here
    (its heartbeat stopped), and the plan is the in-process one, valid."""
    doomed = start_worker(broker)
    start_worker(broker)
    thread, box = _solve_in_thread(day, broker)
    _started_on(broker, doomed)
    doomed.kill()
    thread.join(timeout=300)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    report = box["report"]
    assert any(doomed.name in row["reason"] for row in report["late"]), report
    _valid(day, box["outcome"])
    assert _plan(box["outcome"]) == local_plan


def test_a_pool_process_killed_mid_part_is_redelivered(
    day: Scenario, local_plan: str, broker: str, start_worker: Callable[..., Worker]
) -> None:
    """SIGKILL one pool process: Celery (late ack, reject on worker lost) puts the
    part back on the queue and a worker solves it; nothing is taken back."""
    import os
    import signal

    worker = start_worker(broker, concurrency=2)
    thread, box = _solve_in_thread(day, broker)
    _started_on(broker, worker)
    victim = worker.pool_pids()[0]
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    report = box["report"]
    assert report["answered_by_workers"] == report["parts"], report
    _valid(day, box["outcome"])
    assert _plan(box["outcome"]) == local_plan
    assert "WorkerLostError" in worker.log.read_text() and report["late"] == []


def test_the_broker_stopped_mid_batch_finishes_here(
    day: Scenario,
    local_plan: str,
    private_redis: Callable[[], Any],
    start_worker: Callable[..., Worker],
) -> None:
    """The broker dies while parts are out: they and the rest are solved here."""
    url, server = private_redis()
    worker = start_worker(url)
    thread, box = _solve_in_thread(day, url)
    _started_on(url, worker)
    server.kill()
    server.wait()
    thread.join(timeout=300)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    report = box["report"]
    assert report["broker_lost"], report
    _valid(day, box["outcome"])
    assert _plan(box["outcome"]) == local_plan


def test_the_broker_stopped_keeps_the_deadline(
    private_redis: Callable[[], Any], start_worker: Callable[..., Worker]
) -> None:
    """Time-limited: the day still ends near its time limit, with a valid plan."""
    from dataclasses import replace

    day = small_day(requests=400, volunteers=20, seed=8)
    url, server = private_redis()
    worker = start_worker(url)
    params = replace(PARTS, iterations=None, time_limit=12.0)
    box: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        box["outcome"], box["report"] = solve_reporting(day, params, 2, broker_url=url)
        box["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    _started_on(url, worker)
    server.kill()
    server.wait()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert box["report"]["broker_lost"]
    _valid(day, box["outcome"])
    # The time limit plus the allocation's own seconds and a margin for a loaded machine.
    assert box["seconds"] < params.time_limit * 1.5 + 10, box["seconds"]


def test_parts_queued_behind_a_long_part_wait_for_their_worker(
    broker: str, start_worker: Callable[..., Worker]
) -> None:
    """One worker, parts longer than the stall patience: the queued ones are not
    taken back while the worker is seen solving (it is busy, not lost)."""
    from engine.dispatch import routing_problem
    from engine.remote import CeleryExecutor
    from engine.solve import allocate
    from routing import SolveParams
    from routing.parallel import solve_part

    day = small_day(requests=300, volunteers=12, seed=9)
    outcome = allocate(day)
    problem = routing_problem(day, outcome.plan.allocations, outcome.values).problem
    params = SolveParams(iterations=400, backends=("vroom", "pyvrp"), shares=(0.5, 0.5))
    start_worker(broker)
    executor = CeleryExecutor(broker, label="queue", stall_after=1.0)
    try:
        futures = [executor.submit(solve_part, problem, params, seed, None) for seed in (1, 2, 3)]
        for future in futures:
            future.result(timeout=300)
        report, timings = executor.report(), list(executor.timings)
    finally:
        executor.shutdown()
    # The premise: the parts outlast the patience, so the later ones queued past it.
    assert sum(t["seconds"] for t in timings[:2]) > 2 * executor.stall_after, timings
    assert report["late"] == [] and report["answered_by_workers"] == 3, report
