"""Background batch jobs (``engine.jobs``): a run to a valid draft, its progress,
its failure in one line, stale jobs, one running batch per date."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import jobs
from engine.access import Actor
from engine.checker import check_plan
from engine.db.base import utcnow
from engine.db.session import Database
from engine.errors import Forbidden, InputError
from engine.models import AuditEvent, Batch, Job
from engine.scenario.reader import parse_scenario
from tests.platform.batch_days import DAY, make_day
from tests.platform.conftest import TestDatabase

COORDINATOR = Actor("coordinator@crt.example.org", "coordinator", user_id=1, org_id=1)


def _job(database: TestDatabase, day: Any = DAY, **kw: Any) -> int:
    kw.setdefault("iterations", 20)
    kw.setdefault("workers", 1)
    with database.session() as s:
        job = jobs.create_batch_job(s, COORDINATOR, day, **kw)
        s.commit()
        return job.id


def _row(database: TestDatabase, job_id: int) -> Job:
    with database.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def test_a_job_runs_to_a_valid_draft(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    job_id = _job(database)
    assert _row(database, job_id).status == "queued"
    assert jobs.run_batch_job(Database(database.engine), job_id) == "done"
    job = _row(database, job_id)
    assert (job.status, job.progress, job.message, job.error) == ("done", 1.0, "done", None)
    assert job.result == {"batch_id": job.batch_id, "skipped": []}
    assert job.lock_key is None and job.finished_at is not None
    with database.session() as s:
        batch = s.get(Batch, job.batch_id)
        assert batch is not None and batch.status == "draft"
        assert batch.created_by == COORDINATOR.label and batch.iterations == 20
        report = check_plan(parse_scenario(json.loads(batch.scenario)), json.loads(batch.plan))
        assert report.valid, report.violations
        actions = s.execute(select(AuditEvent.action)).scalars().all()
    assert {"job.start", "batch.run", "job.done"} <= set(actions)
    # Claimed once: a second runner leaves it alone.
    assert jobs.run_batch_job(Database(database.engine), job_id) == "skipped"


def test_progress_moves_forward_through_the_stages(
    database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.session() as s:
        make_day(s)
    seen: list[tuple[str, float]] = []
    original = jobs._Reporter._write

    def spy(self: Any) -> None:
        original(self)
        seen.append((self.stage_name, self.written))

    monkeypatch.setattr(jobs._Reporter, "_write", spy)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.01)
    job_id = _job(database)
    assert jobs.run_batch_job(Database(database.engine), job_id) == "done"
    values = [v for _, v in seen]
    assert values == sorted(values), "progress went backwards"
    assert len(set(values)) >= 4 and 0 < values[0] < values[-1] < 1
    stages = [name for name, _ in seen]
    for stage in ("snapshot", "allocating", "routing", "storing"):
        assert stage in stages
    assert stages.index("snapshot") < stages.index("routing") < stages.index("storing")
    assert _row(database, job_id).progress == 1.0


def test_a_failure_is_recorded_in_one_line_and_frees_the_date(
    database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.session() as s:
        make_day(s)

    def explode(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("boom\n  File secret.py, line 3\nTraceback")

    monkeypatch.setattr("engine.batch_run.solve", explode)
    job_id = _job(database)
    assert jobs.run_batch_job(Database(database.engine), job_id) == "failed"
    job = _row(database, job_id)
    assert job.status == "failed" and job.lock_key is None and job.batch_id is None
    assert job.error == "unexpected error (RuntimeError); the server log has the details"
    assert "\n" not in job.error

    def refuse(*_args: Any, **_kw: Any) -> Any:
        raise InputError("policy: weights too large\nsecond line")

    monkeypatch.setattr("engine.batch_run.solve", refuse)
    again = _job(database)  # the failed job no longer holds the date
    assert jobs.run_batch_job(Database(database.engine), again) == "failed"
    assert _row(database, again).error == "policy: weights too large"
    with database.session() as s:
        assert s.scalar(select(Batch.id)) is None  # nothing stored
        fails = s.execute(select(AuditEvent).where(AuditEvent.action == "job.fail")).scalars()
        assert len(list(fails)) == 2


def test_a_job_left_running_is_seen_failed_then_marked_failed(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    job_id = _job(database)
    with database.session() as s:  # its runner died long ago
        job = s.get(Job, job_id)
        assert job is not None
        job.status, job.heartbeat_at = "running", utcnow() - timedelta(minutes=10)
        s.commit()
    with database.session() as s:
        view = jobs.get_job(s, job_id, COORDINATOR)
        assert view.status == "failed" and "stopped" in (view.error or "")
        s.rollback()
    assert _row(database, job_id).status == "running"  # a look writes nothing
    fresh = _job(database)  # the next run of the date marks it and goes ahead
    stale = _row(database, job_id)
    assert (stale.status, stale.lock_key) == ("failed", None)
    assert "no sign of life" in (stale.error or "")
    assert _row(database, fresh).status == "queued"


def test_a_live_job_is_not_stale(database: TestDatabase) -> None:
    job_id = _job(database)
    with database.session() as s:
        assert jobs.sweep_stale(s) == []
        assert jobs.get_job(s, job_id, COORDINATOR).status == "queued"


def test_one_running_batch_job_per_date(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    first = _job(database)
    with database.session() as s, pytest.raises(jobs.JobRunning) as refused:
        jobs.create_batch_job(s, COORDINATOR, DAY, iterations=20)
    assert refused.value.job_id == first
    assert "already running (job" in str(refused.value)
    other_day = _job(database, day=DAY + timedelta(days=1))  # another date may run
    assert other_day != first
    assert jobs.run_batch_job(Database(database.engine), first) == "done"
    assert _job(database) > first  # the date is free again


def test_the_unique_key_refuses_a_concurrent_second_job(database: TestDatabase) -> None:
    first = _job(database)
    with database.session() as s:
        # As if another request had inserted between the look and the insert.
        job = Job(
            kind="batch",
            status="queued",
            progress=0.0,
            params={},
            created_by="x",
            lock_key=f"batch:{DAY.isoformat()}",
        )
        s.add(job)
        with pytest.raises(IntegrityError, match=r"(?i)unique|duplicate"):
            s.flush()
    assert _row(database, first).lock_key == f"batch:{DAY.isoformat()}"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"iterations": 0}, "iterations"),
        ({"iterations": None, "time_limit": 0.0}, "time_limit"),
        ({"iterations": 5, "time_limit": 5.0}, "not both"),
    ],
)
def test_a_bad_budget_is_refused(database: TestDatabase, kw: dict[str, Any], message: str) -> None:
    with database.session() as s, pytest.raises(InputError, match=message):
        jobs.create_batch_job(s, COORDINATOR, DAY, **kw)


def test_staff_may_not_run_or_watch_batches(database: TestDatabase) -> None:
    staff = Actor("staff@crt.example.org", "staff", user_id=2, org_id=1)
    job_id = _job(database)
    with database.session() as s:
        with pytest.raises(Forbidden):
            jobs.create_batch_job(s, staff, DAY)
        with pytest.raises(Forbidden):
            jobs.get_job(s, job_id, staff)


def test_a_time_limited_job_records_its_budget(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s, requests=2)
    job_id = _job(database, day=DAY, iterations=None, time_limit=2.0, seed=3)
    assert _row(database, job_id).params == {
        "date": DAY.isoformat(),
        "iterations": None,
        "time_limit": 2.0,
        "seed": 3,
        "workers": 1,
    }
    assert jobs.run_batch_job(Database(database.engine), job_id) == "done"
    with database.session() as s:
        batch = s.get(Batch, _row(database, job_id).batch_id)
        assert batch is not None and (batch.time_limit, batch.seed) == (2.0, 3)
