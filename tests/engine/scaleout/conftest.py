"""Real Redis, real ``jessr worker`` processes: the scale-out's fixtures.

Tests here skip without a Redis server (``JESSR_REQUIRE_SERVICES=1``, set by
``.ci/run``, makes that a failure). Workers are started as the operator starts
them (``python -m engine.cli worker``), each in its own process group so a test
can kill a whole worker (a lost host) or one of its pool processes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.generate import generate_scenario
from engine.params import DayParams
from engine.scenario.model import Scenario
from engine.scenario.reader import parse_scenario
from tests.platform.conftest import database  # noqa: F401  (a batch run through workers)

ROOT = Path(__file__).resolve().parents[3]
REDIS_DB = 14  # the scale-out tests' own database on the shared server
READY_SECONDS = 60.0


def _required() -> bool:
    return os.environ.get("JESSR_REQUIRE_SERVICES") == "1"


def _base_url() -> str:
    base = os.environ.get("JESSR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return base.rsplit("/", 1)[0] if base.count("/") >= 3 else base


@pytest.fixture
def broker() -> Iterator[str]:
    """A Redis URL (database 14 of the test server), emptied before and after."""
    import redis

    url = f"{_base_url()}/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        if _required():
            pytest.fail(f"Redis required (JESSR_REQUIRE_SERVICES=1) but unreachable: {exc}")
        pytest.skip(f"Redis unreachable at {url}")
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@dataclass
class Worker:
    """A running ``jessr worker`` process (its own process group)."""

    process: subprocess.Popen[str]
    log: Path

    @property
    def name(self) -> str:
        """Its Celery node name (``jessr-<pid>@<host>``, as ``jessr worker`` names it)."""
        return f"jessr-{self.process.pid}@{socket.gethostname()}"

    def pool_pids(self) -> list[int]:
        """The pids of its pool processes (children of the main process)."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(p) for p in out.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool): a host lost at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start ``jessr worker`` processes on a broker; all stopped at the end."""
    import redis

    started: list[Worker] = []

    def start(url: str, concurrency: int = 1) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        env = {**os.environ, "JESSR_BROKER_URL": url, "PYTHONPATH": str(ROOT)}
        handle = log.open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "worker", f"--concurrency={concurrency}"],
            cwd=tmp_path,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        handle.close()
        worker = Worker(process, log)
        started.append(worker)
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + READY_SECONDS
        try:
            # Ready: its heartbeat is on, and its pool processes are up.
            while not (client.exists(f"jessr:worker:{worker.name}") and _ready(log)):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"jessr worker did not start:\n{log.read_text()}")
                time.sleep(0.1)
        finally:
            client.close()
        return worker

    yield start
    for worker in started:
        worker.stop()


def _ready(log: Path) -> bool:
    return " ready." in log.read_text()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Start a redis-server of the test's own (which a test may stop): yields a starter."""
    binary = shutil.which("redis-server")
    if binary is None:
        if _required():
            pytest.fail("redis-server required (JESSR_REQUIRE_SERVICES=1) but not installed")
        pytest.skip("redis-server is not installed")
    servers: list[subprocess.Popen[str]] = []

    def start() -> tuple[str, subprocess.Popen[str]]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(tmp_path)]
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(server)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the private redis-server did not start") from None
                time.sleep(0.05)
        return f"redis://127.0.0.1:{port}/0", server

    yield start
    for server in servers:
        if server.poll() is None:
            server.kill()
            server.wait()


def small_day(requests: int = 500, volunteers: int = 24, seed: int = 5) -> Scenario:
    """A generated day small enough for a test, routed below in several parts."""
    doc = generate_scenario(requests=requests, supplies=80, volunteers=volunteers, seed=seed)
    return parse_scenario(doc)


def solve_reporting(
    day: Scenario, params: DayParams, workers: int, broker_url: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """:func:`engine.batch_run.solve` on ``day``, and its report of where the parts ran."""
    from engine.batch_run import solve

    report: dict[str, Any] = {}
    outcome = solve(day, params, workers, broker_url=broker_url, report=report)
    return outcome, report


# Routing in regional parts of ~40 shipments, bounded by iterations: the plan is
# fixed by the scenario, the seed and the bound, wherever the parts are solved.
PARTS = DayParams(iterations=30, seed=3, workers=2, decompose_above=60, part_size=40)
