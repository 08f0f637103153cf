"""What travels to the workers: ids and numbers only; a message delivered twice is one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from engine import wire
from engine.celery_app import QUEUE, done_list, make_app, part_key
from engine.dispatch import routing_problem
from engine.parts import kinds
from routing import SolveParams
from routing.parallel import solve_part
from tests.engine.scaleout.conftest import PARTS, ROOT, Worker, small_day
from tests.platform import factories as f
from tests.platform.conftest import TestDatabase

pytestmark = pytest.mark.slow


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _tunis_day(s: Any, lots: int, requests: int, volunteers: list[dict[str, Any]]) -> None:
    """Lots of 40 at one depot, requests of 2 on a grid west of Tunis, and one
    volunteer per dict of ``volunteers`` (its extra fields); committed."""
    org = f.make_org(s)
    site = f.make_site(s, org)
    for i in range(lots):
        f.make_lot(s, org, f"L{i + 1}", 40, site=site)
    for i in range(requests):
        at = (36.70 + 0.01 * (i % 12), 10.05 + 0.02 * (i // 12))
        f.make_request(s, org, f"R{i + 1}", at=at, region="TN-11", quantity=2)
    for i, extra in enumerate(volunteers):
        f.make_volunteer(s, org, f"V{i + 1}", **extra)
    s.commit()


def test_a_duplicate_delivery_changes_nothing(
    broker: str, start_worker: Callable[..., Worker]
) -> None:
    """The same message delivered twice (and once more after the answer was read):
    solved once, one answer, one completion notice."""
    import redis

    from engine.solve import allocate

    worker = start_worker(broker)
    day = small_day(requests=120, volunteers=6)
    outcome = allocate(day)
    problem = routing_problem(day, outcome.plan.allocations, outcome.values).problem
    args = (problem, SolveParams(iterations=5, backends=("vroom",), shares=(1.0,)), 3, None)
    r = redis.Redis.from_url(broker)
    app = make_app(broker)
    key = "dup-run:1"
    r.set(part_key(key, "in"), wire.dumps(args))
    for _ in range(2):
        app.send_task("jessr.part", args=[key, "routing.part"], queue=QUEUE)

    def handled(n: int) -> Callable[[], bool]:
        return lambda: worker.log.read_text().count("jessr.part[") >= 2 * n  # received + done

    _wait_for(handled(2), "both deliveries")
    first = r.get(part_key(key, "out"))
    app.send_task("jessr.part", args=[key, "routing.part"], queue=QUEUE)
    _wait_for(handled(3), "the third delivery")
    log = worker.log.read_text()
    assert log.count("'solved'") == 1 and log.count("'duplicate'") == 2, log
    assert r.get(part_key(key, "out")) == first
    assert r.llen(done_list("dup-run")) == 1
    status, answer, _seconds = wire.loads(first)
    here = solve_part(*args)
    assert status == "ok" and (answer.routes, answer.dropped) == (here.routes, here.dropped)
    r.close()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_batch_through_workers_sends_no_personal_field(
    database: TestDatabase,
    broker: str,
    start_worker: Callable[..., Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every message and every stored part of a batch run through the workers is
    inspected: message arguments are (key, kind); no volunteer name or phone, and no
    household pseudonym, is in any of them. The draft says where its parts ran."""
    from engine import remote
    from engine.batch_run import run_batch
    from engine.db.session import open_database
    from engine.models import Household

    names = [f"Aïcha Ben Salah {i}" for i in range(5)]
    phones = [f"+216 98 765 43{i}" for i in range(5)]
    people = [{"name": n, "phone": p} for n, p in zip(names, phones, strict=True)]
    with database.session() as s:
        _tunis_day(s, lots=4, requests=60, volunteers=people)
        pseudonyms = [h.pseudonym for h in s.query(Household).all()]
    assert len(pseudonyms) == 60

    sent: list[tuple[Any, Any]] = []
    stored: list[bytes] = []
    real_make_app, real_dumps = remote.make_app, wire.dumps

    def spying_app(url: str) -> Any:
        app = real_make_app(url)
        send = app.send_task

        def send_task(name: str, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
            sent.append((args, kwargs))
            return send(name, args=args, kwargs=kwargs, **options)

        app.send_task = send_task  # type: ignore[method-assign]
        return app

    def spying_dumps(value: Any) -> bytes:
        data = real_dumps(value)
        stored.append(data)
        return data

    monkeypatch.setattr(remote, "make_app", spying_app)
    monkeypatch.setattr(wire, "dumps", spying_dumps)
    start_worker(broker, concurrency=2)
    params = replace(PARTS, decompose_above=10, part_size=8, iterations=10)
    with open_database(database.settings()) as db:
        outcome = run_batch(db, f.DAY, params, "test", workers=2, broker_url=broker)

    scale_out = outcome.metrics["scale_out"]
    assert scale_out["executor"] == "celery" and scale_out["parts"] == len(sent) >= 3
    assert scale_out["answered_by_workers"] == len(sent) and scale_out["late"] == []
    pattern = re.compile(r"^batch-\d{4}-\d\d-\d\d-[0-9a-f]{12}:\d+$")
    for args, kwargs in sent:
        assert kwargs is None and len(args) == 2
        assert pattern.match(args[0]) and args[1] in kinds(), args
    texts = [zlib.decompress(data).decode() for data in stored]
    assert texts
    for text in texts:
        json.loads(text)
        for secret in (*names, *phones, *pseudonyms, "Aïcha", "+216"):
            assert secret not in text


def test_the_worker_needs_a_broker(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JESSR_BROKER_URL"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "worker"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "jessr: worker: JESSR_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)"
    ]


def test_solve_with_an_unreachable_broker_solves_here(tmp_path: Any) -> None:
    """``jessr solve --broker`` on a dead address: the plan is made here, and said so."""
    from engine.cli import main
    from engine.generate import generate_scenario

    scenario = tmp_path / "day.json"
    scenario.write_text(
        json.dumps(generate_scenario(requests=60, supplies=10, volunteers=3, seed=1))
    )
    plans = []
    for extra in ([], ["--broker", "redis://127.0.0.1:1/0"]):
        out = tmp_path / f"plan{len(plans)}.json"
        args = [str(scenario), "-o", str(out), "--iterations", "5", "--workers", "1"]
        assert main(["solve", *args, *extra]) == 0
        plans.append(out.read_text())
    assert plans[0] == plans[1]


FORK_AFTER_BROKER = """
import sys
from matching.flow import solve_category
from engine.executors import process_pool
from engine.remote import CeleryExecutor

executor = CeleryExecutor(sys.argv[1], label="fork-after")
executor.capacity()
# Celery's remote control leaves its connection in the middle of a blocking read:
# the worst a pooled connection can be in when a pool forks.
executor._app.control.inspect(timeout=0.5).stats()
executor.submit(solve_category, None)  # no worker listens: it stays queued
executor.shutdown(wait=False, cancel_futures=True)
with process_pool(2) as pool:
    assert pool is not None
    print(sum(pool.map(abs, [-1, -2, -3])))
"""


def test_a_process_pool_after_a_broker_run_does_not_hang(broker: str) -> None:
    """A solve that fell back from the broker forks a pool: its children must not
    inherit a broker connection they would block on (kombu closes them after fork)."""
    done = subprocess.run(
        [sys.executable, "-c", FORK_AFTER_BROKER, broker],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6"


def test_parts_for_workers() -> None:
    """More workers, more parts, for a time-limited day on Celery only."""
    from engine.executors import PARTS_PER_WORKER, for_workers
    from engine.params import DayParams

    timed = DayParams(time_limit=30.0)
    assert for_workers(timed, 8, remote=True).min_parts == PARTS_PER_WORKER * 8
    assert for_workers(timed, 8, remote=False).min_parts is None
    assert for_workers(DayParams(iterations=50), 8, remote=True).min_parts is None
    assert for_workers(replace(timed, min_parts=3), 8, remote=True).min_parts == 3
    assert for_workers(timed, 8, remote=True).workers == 8


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_timed_batch_through_workers_replays_here(
    database: TestDatabase, broker: str, start_worker: Callable[..., Worker]
) -> None:
    """A time-limited batch cut for 2 workers stores its parts (min_parts) and its
    search record: ``batch replay`` without a broker gives the same plan bytes."""
    from engine.batch_run import run_batch
    from engine.db.session import open_database
    from engine.models import Batch

    with database.session() as s:
        _tunis_day(s, lots=3, requests=40, volunteers=[{}] * 6)
    start_worker(broker)
    start_worker(broker)
    params = replace(PARTS, iterations=None, time_limit=8.0, decompose_above=10, part_size=40)
    with open_database(database.settings()) as db:
        outcome = run_batch(db, f.DAY, params, "test", workers=2, broker_url=broker)
    assert outcome.metrics["scale_out"]["min_parts"] == 4
    with database.session() as s:
        batch = s.get(Batch, outcome.batch_id)
        assert batch is not None and batch.params["min_parts"] == 4
    # Round 1 of the routing was cut into 4 regional parts (40 shipments, part_size 40).
    assert len(batch.search_record["round1"]["round1"]) == 4
    replay = database.cli("batch", "replay", str(outcome.batch_id), "--workers", "1")
    assert replay.code == 0, replay.err


def test_a_broker_that_is_not_redis_is_refused_in_one_line(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--broker`` and ``JESSR_BROKER_URL`` must name Redis: exit 2, nothing written."""
    from engine.cli import main
    from engine.generate import generate_scenario

    scenario = tmp_path / "day.json"
    doc = generate_scenario(requests=10, supplies=3, volunteers=0, seed=1)
    scenario.write_text(json.dumps(doc))
    out = tmp_path / "plan.json"
    args = ["solve", str(scenario), "-o", str(out), "--iterations", "5"]
    assert main([*args, "--broker", "amqp://guest@localhost//"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "jessr: --broker: expected a Redis URL (redis://host:6379/0), got 'amqp://guest@localhost//'"
    ]
    monkeypatch.setenv("JESSR_BROKER_URL", "localhost:6379")
    assert main(args) == 2
    assert "JESSR_BROKER_URL: expected a Redis URL" in capsys.readouterr().err
    assert not out.exists()
