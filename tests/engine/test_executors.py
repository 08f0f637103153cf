"""engine.executors: a pool only where forking is safe; solves complete either way.

These tests start real processes and threads: a daemonic process (what a
Celery prefork or ``multiprocessing.Pool`` worker is) and a second thread
(what a threaded web server has) must get ``None`` and solve in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import types
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing.connection import Connection

import pytest

import routing
from engine.executors import in_process_reason, process_pool
from engine.params import DayParams
from tests.helpers.routing import assert_valid, geo_problem

# Parts of 30 shipments, two at a time: the path that forked a pool by itself.
SPLIT = routing.SolveParams(time_limit=4.0, part_size=30, decompose_above=50, workers=2)

_forks: list[int] = []
_counting = False


def _count_fork() -> None:
    if _counting:
        _forks.append(os.getpid())


os.register_at_fork(before=_count_fork)


class ForkCounter:
    """Counts fork() calls made by this process while it is active."""

    def __enter__(self) -> list[int]:
        global _counting
        _forks.clear()
        _counting = True
        return _forks

    def __exit__(self, *exc: object) -> None:
        global _counting
        _counting = False


def test_one_worker_is_in_process() -> None:
    assert in_process_reason(1) == "workers=1"
    with process_pool(1) as executor:
        assert executor is None


def test_a_lone_main_thread_gets_a_pool_of_forked_workers() -> None:
    # The control for the tests below: here forking is safe, and it happens.
    assert threading.active_count() == 1, threading.enumerate()
    with ForkCounter() as forks, process_pool(2) as executor:
        assert isinstance(executor, ProcessPoolExecutor)
        assert executor.submit(os.getpid).result() != os.getpid()
    assert len(forks) == 2


def _day_in_daemon(send: Connection) -> None:
    """In a daemonic process: a generated day and a regional problem, workers=2."""
    import engine.solve
    from engine.checker import check_plan
    from engine.generate import generate_scenario
    from engine.scenario.reader import parse_scenario
    from engine.scenario.writer import plan_to_dict

    try:
        scenario = parse_scenario(generate_scenario(requests=80, supplies=20, volunteers=4, seed=5))
        problem = geo_problem(2, shipments=80, vehicles=10)
        with process_pool(2) as executor:
            # One routing round (route_aware=False): the one routed in parts.
            outcome = engine.solve.solve_scenario(
                scenario,
                DayParams(  # the day's routing in parts, so that its parts would want the pool
                    time_limit=6,
                    workers=2,
                    route_aware=False,
                    decompose_above=20,
                    part_size=15,
                ),
                executor=executor,
            )
            result = routing.solve(problem, SPLIT, seed=0, executor=executor)
        report = check_plan(scenario, plan_to_dict(outcome.plan))
        backend = outcome.routing.metrics.backend if outcome.routing else None
        send.send((executor, report.valid, report.violations[:3], backend, result))
    except BaseException as exc:  # the parent shows what went wrong
        send.send(repr(exc))
        raise


def test_a_day_with_two_workers_completes_inside_a_daemonic_process() -> None:
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_day_in_daemon, args=(send,), daemon=True
    )
    child.start()
    send.close()
    try:
        assert receive.poll(120), "the daemonic solve did not answer"
        answer = receive.recv()
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
    assert not isinstance(answer, str), answer
    executor, plan_valid, violations, backend, result = answer
    assert executor is None  # refused to fork: everything ran in the daemon
    assert plan_valid, violations
    assert backend is not None and backend.startswith("regional(")
    assert child.exitcode == 0
    carried = assert_valid(geo_problem(2, shipments=80, vehicles=10), result)
    assert result.metrics.backend.startswith("regional(") and carried


def test_a_solve_from_a_thread_while_another_runs_does_not_fork() -> None:
    problem = geo_problem(2, shipments=80, vehicles=10)
    server = threading.Event()
    other = threading.Thread(target=server.wait, name="server", daemon=True)
    out: dict[str, object] = {}

    def request() -> None:
        out["reason"] = in_process_reason(2)
        with process_pool(2) as executor:
            out["executor"] = executor
            out["result"] = routing.solve(problem, SPLIT, seed=0, executor=executor)

    other.start()
    try:
        with ForkCounter() as forks:
            worker = threading.Thread(target=request, name="request")
            worker.start()
            worker.join(60)
    finally:
        server.set()
        other.join()
    assert forks == []
    assert out["executor"] is None
    assert "other threads" in str(out["reason"]) and "server" in str(out["reason"])
    result = out["result"]
    assert isinstance(result, routing.RoutingResult)
    assert result.metrics.backend.startswith("regional(")
    assert_valid(problem, result)


def test_a_celery_prefork_child_counts_as_daemonic(monkeypatch: pytest.MonkeyPatch) -> None:
    # Celery's workers are billiard processes: daemonic in billiard's own view.
    me = types.SimpleNamespace(daemon=True)
    fake = types.ModuleType("billiard.process")
    fake.current_process = lambda: me  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "billiard.process", fake)
    assert "daemonic" in str(in_process_reason(2))
    me.daemon = False
    assert in_process_reason(2) is None


def test_the_executor_type_is_the_standard_one() -> None:
    # Callers type against concurrent.futures.Executor, not a project class.
    with process_pool(1) as executor:
        assert executor is None or isinstance(executor, Executor)


def test_an_allocation_only_pool_does_not_import_the_routing_backends() -> None:
    # A day without volunteers never routes: its pool skips the backends'
    # imports (0.3-0.5 s); a day with volunteers has them loaded before forking.
    code = (
        "import sys\n"
        "from engine.executors import process_pool\n"
        "with process_pool(2, routing=False) as pool:\n"
        "    assert pool is not None\n"
        "    print('routing.backends.pyvrp_backend' in sys.modules)\n"
        "with process_pool(2) as pool:\n"
        "    print('routing.backends.pyvrp_backend' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]
