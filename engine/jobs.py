"""Background jobs: the day's batch run started from the web, with its progress.

A job is a row (:class:`engine.models.Job`), not a process, so every web worker
sees the same progress. :func:`create_batch_job` records the request (who, which
date, which budget) as a ``queued`` job; whoever runs it calls
:func:`run_batch_job` with the database and the job's id only — today a child
process the web process starts and watches from a thread, later a Celery task
with the same two arguments (issue 23).
``python -m engine.jobs JOB_ID`` runs one job in a process of its own (what
the web's thread starts, :mod:`web.coordinator.batch.runner`). The runner claims
the job (``queued → running``), runs
:func:`engine.batch_run.run_batch` (the code path of ``jessr batch run``) and
writes its progress, stage and heartbeat in short transactions of their own,
then ``done`` with ``result = {"batch_id": …}``, or ``failed`` with a one-line
``error`` (never a traceback; an unexpected error is logged in full).

**Stale jobs.** A runner that dies (the web process restarted, the machine
stopped) leaves its job ``running``. The runner's heartbeat moves every
:data:`HEARTBEAT_SECONDS`; a queued or running job whose heartbeat is older
than :data:`STALE_SECONDS` is *seen* as failed by every read
(:attr:`JobView.status`) and *marked* failed by the next write that looks at it
(:func:`create_batch_job`, :func:`sweep_stale`), so a GET never writes.

**One running batch per date.** A queued or running batch job holds the lock
key ``batch:<date>`` (a unique column, cleared when it ends), so a second run of
the same date is refused with the running job's number, race-free on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.db.base import as_utc, utcnow
from engine.db.session import Database, first_line
from engine.errors import ConflictError, InputError, JessrError, NotFound
from engine.models import Job
from engine.params import DayParams
from engine.scenario.errors import ScenarioError

log = logging.getLogger(__name__)

BATCH = "batch"
HEARTBEAT_SECONDS = 2.0  # how often a running job writes its progress and heartbeat
STALE_SECONDS = 120.0  # a job silent this long lost its runner
ACTIVE = ("queued", "running")
DEFAULT_ITERATIONS = 1000  # as `jessr batch run`
MAX_TIME_LIMIT = 3600.0  # a web-started run may take at most an hour
MAX_ITERATIONS = 1_000_000
STALE_ERROR = "the process running this job stopped (no sign of life for {seconds:.0f} s)"

# Progress of each stage: where it starts and where it may reach. Stages of unknown
# length approach their end without reaching it; stages with a known budget move
# with the clock.
STAGES: dict[str, tuple[float, float]] = {
    "queued": (0.0, 0.0),
    "starting": (0.0, 0.02),
    "snapshot": (0.02, 0.05),
    "allocating": (0.05, 0.12),
    "routing": (0.12, 0.55),
    "reallocating": (0.55, 0.62),
    "routing again": (0.62, 0.9),
    "storing": (0.9, 0.98),
    "done": (1.0, 1.0),
}
UNKNOWN_LENGTH_SECONDS = 20.0  # time constant of a stage without a budget


class JobRunning(ConflictError):
    """Another batch job of the date is queued or running (``job_id``, when known)."""

    def __init__(self, message: str, job_id: int | None) -> None:
        super().__init__(message)
        self.job_id = job_id


@dataclass(frozen=True)
class JobView:
    """A job as pages and the status endpoint show it (stale jobs seen as failed)."""

    id: int
    kind: str
    status: str
    progress: float
    stage: str | None  # a key of STAGES (pages translate it)
    error: str | None
    batch_id: int | None
    params: dict[str, Any]
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def day(self) -> date | None:
        raw = self.params.get("date")
        return date.fromisoformat(raw) if isinstance(raw, str) else None

    def as_json(self) -> dict[str, Any]:
        """The status endpoint's body."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 3),
            "stage": self.stage,
            "error": self.error,
            "batch_id": self.batch_id,
            "date": self.params.get("date"),
        }


def _stale(job: Job, now: datetime) -> bool:
    if job.status not in ACTIVE:
        return False
    beat = job.heartbeat_at or job.created_at
    return beat is not None and now - as_utc(beat) > timedelta(seconds=STALE_SECONDS)


def _view(job: Job, now: datetime | None = None) -> JobView:
    now = now or utcnow()
    stale = _stale(job, now)
    return JobView(
        id=job.id,
        kind=job.kind,
        status="failed" if stale else job.status,
        progress=job.progress,
        stage=job.message,
        error=STALE_ERROR.format(seconds=STALE_SECONDS) if stale else job.error,
        batch_id=job.batch_id,
        params=dict(job.params or {}),
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def budget_params(
    iterations: int | None, time_limit: float | None, seed: int, workers: int = 2
) -> DayParams:
    """The solve's parameters, as ``jessr batch run`` builds them (iterations by default)."""
    if iterations is not None and time_limit is not None:
        raise InputError("budget: give a time limit or a number of iterations, not both")
    if time_limit is not None and not (0 < time_limit <= MAX_TIME_LIMIT):
        raise InputError(f"time_limit: expected 1 to {MAX_TIME_LIMIT:.0f} seconds")
    if iterations is not None and not (0 < iterations <= MAX_ITERATIONS):
        raise InputError(f"iterations: expected 1 to {MAX_ITERATIONS}")
    try:
        if time_limit is not None:
            return DayParams(time_limit=time_limit, seed=seed, workers=workers)
        return DayParams(iterations=iterations or DEFAULT_ITERATIONS, seed=seed, workers=workers)
    except ValueError as exc:
        field, _, why = str(exc).partition(":")
        raise InputError(f"{field}:{why}") from None


def sweep_stale(session: Session, now: datetime | None = None) -> list[int]:
    """Mark failed every queued or running job whose runner stopped; their ids."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=STALE_SECONDS)
    candidates = session.execute(
        select(Job).where(
            Job.status.in_(ACTIVE),
            or_(
                Job.heartbeat_at < cutoff, and_(Job.heartbeat_at.is_(None), Job.created_at < cutoff)
            ),
        )
    ).scalars()
    marked = []
    for job in candidates:
        if not _stale(job, now):
            continue
        error = STALE_ERROR.format(seconds=STALE_SECONDS)
        done = session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == job.status)
            .values(status="failed", error=error, finished_at=now, lock_key=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done == 1:
            audit.record(
                session,
                "system",
                "job.fail",
                "job",
                job.id,
                before={"status": job.status},
                after={"status": "failed", "error": error},
            )
            marked.append(job.id)
    if marked:
        session.expire_all()
    return marked


def create_batch_job(
    session: Session,
    actor: Actor,
    day: date,
    *,
    iterations: int | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    workers: int = 2,
) -> Job:
    """Record a run of ``day``'s batch as a queued job (its runner is the caller's).

    Refused with :class:`ConflictError` while another batch job of ``day`` is queued
    or running (and alive); the budget is checked as ``jessr batch run`` checks it.
    """
    require_role(actor, "coordinator")
    params = budget_params(iterations, time_limit, seed, workers)
    sweep_stale(session)
    key = f"{BATCH}:{day.isoformat()}"
    running = session.execute(select(Job).where(Job.lock_key == key)).scalar_one_or_none()
    if running is not None:
        raise JobRunning(
            f"a batch of {day.isoformat()} is already running (job {running.id}); "
            "wait for it to finish",
            running.id,
        )
    now = utcnow()
    job = Job(
        kind=BATCH,
        status="queued",
        progress=0.0,
        message="queued",
        params={
            "date": day.isoformat(),
            "iterations": params.iterations,
            "time_limit": params.time_limit if params.iterations is None else None,
            "seed": params.seed,
            "workers": workers,
        },
        created_by=actor.label,
        created_at=now,
        heartbeat_at=now,
        lock_key=key,
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # Another request took the key between our look and our insert.
        holder = session.execute(select(Job.id).where(Job.lock_key == key)).scalar_one_or_none()
        raise JobRunning(
            f"a batch of {day.isoformat()} is already running; wait for it to finish", holder
        ) from None
    audit.record(session, actor.label, "job.start", "job", job.id, after=job.params)
    return job


def get_job(session: Session, job_id: int, actor: Actor) -> JobView:
    """Job ``job_id`` as its page shows it (jobs are national, as the batch is)."""
    require_role(actor, "coordinator")
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return _view(job)


def recent_jobs(session: Session, actor: Actor, limit: int = 10) -> list[JobView]:
    """The latest jobs, newest first."""
    require_role(actor, "coordinator")
    now = utcnow()
    rows = session.execute(select(Job).order_by(Job.id.desc()).limit(limit)).scalars()
    return [_view(j, now) for j in rows]


def one_line(exc: BaseException) -> str:
    """A failure as one line for the job's ``error``: the message of the errors Jessr
    reports to people, else a generic line (the traceback goes to the log only)."""
    if isinstance(exc, JessrError | ScenarioError):
        return first_line(exc)[:500]
    return f"unexpected error ({type(exc).__name__}); the server log has the details"


class _Reporter:
    """Writes a running job's stage, progress and heartbeat, each write its own
    short transaction; a thread keeps the heartbeat (and a stage's progress) moving
    while the solver is busy."""

    def __init__(self, database: Database, job_id: int) -> None:
        self.database = database
        self.job_id = job_id
        self.stage_name = "starting"
        self.budget: float | None = None
        self.since = time.monotonic()
        self.written = -1.0
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()  # one write at a time: progress never goes back
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"job-{job_id}", daemon=True)

    def __enter__(self) -> _Reporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def stage(self, name: str, budget: float | None = None) -> None:
        """The solver's (or the run's) stage callback."""
        key = "reallocating" if name.startswith("re-allocating") else name
        with self.lock:
            self.stage_name = key if key in STAGES else self.stage_name
            self.budget = budget
            self.since = time.monotonic()
        self._write()

    def progress(self) -> float:
        with self.lock:
            start, end = STAGES.get(self.stage_name, (0.0, 0.0))
            elapsed = time.monotonic() - self.since
            if self.budget:
                share = min(1.0, elapsed / self.budget)
            else:
                share = 1.0 - math.exp(-elapsed / UNKNOWN_LENGTH_SECONDS)
        # Never backwards: a stage starts where the last write left off at least.
        return max(self.written, start + (end - start) * share)

    def _write(self) -> None:
        with self.write_lock:
            value = min(1.0, self.progress())
            with self.database.session() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == self.job_id, Job.status == "running")
                    .values(progress=value, message=self.stage_name, heartbeat_at=utcnow())
                )
            self.written = value

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            try:
                self._write()
            except Exception:  # a busy database must not kill the run; next beat retries
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)


def _finish(
    database: Database,
    job_id: int,
    values: dict[str, Any],
    event: dict[str, Any],
    statuses: tuple[str, ...] = ("running",),
) -> bool:
    """End job ``job_id`` if it is still in one of ``statuses``; whether it did."""

    def work(session: Session) -> bool:
        done = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(statuses))
            .values(finished_at=utcnow(), heartbeat_at=utcnow(), lock_key=None, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done == 1:
            action = "job.done" if values["status"] == "done" else "job.fail"
            audit.record(session, "system", action, "job", job_id, after=event)
        return done == 1

    return database.run(work)


def beat(database: Database, job_id: int) -> bool:
    """Move a queued or running job's heartbeat (its runner is alive); whether it is
    still queued or running."""
    with database.session() as session:
        moved = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(ACTIVE))
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    return moved == 1


def fail(database: Database, job_id: int, error: str) -> bool:
    """Mark a queued or running job failed with ``error`` (its runner could not run or
    finish it); whether it was still queued or running."""
    line = error.splitlines()[0] if error else "failed"
    return _finish(database, job_id, {"status": "failed", "error": line}, {"error": line}, ACTIVE)


def run_batch_job(database: Database, job_id: int, broker_url: str | None = None) -> str:
    """Run queued batch job ``job_id`` to its end; returns its final status.

    With ``broker_url`` (the platform's ``JESSR_BROKER_URL``) its parts run on the
    Celery workers, as ``jessr batch run`` sends them.

    Takes ids only (a Celery task can call it as the web's child process does). A job that is not
    queued (already claimed, finished, or unknown) is left alone: ``"skipped"``.
    """
    from engine.batch_run import run_batch

    now = utcnow()
    with database.session() as session:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued", Job.kind == BATCH)
            .values(
                status="running", started_at=now, heartbeat_at=now, message="starting", progress=0
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return "skipped"
        job = session.get(Job, job_id)
        assert job is not None
        params = dict(job.params or {})
        actor = job.created_by
    try:
        day = date.fromisoformat(params["date"])
        day_params = budget_params(
            params.get("iterations"),
            params.get("time_limit"),
            int(params.get("seed") or 0),
            int(params.get("workers") or 1),
        )
        with _Reporter(database, job_id) as reporter:
            outcome = run_batch(
                database,
                day,
                day_params,
                actor,
                workers=int(params.get("workers") or 1),
                progress=reporter.stage,
                broker_url=broker_url,
            )
    except Exception as exc:
        if not isinstance(exc, JessrError | ScenarioError):
            log.exception("batch job %s failed", job_id)
        error = one_line(exc)
        _finish(database, job_id, {"status": "failed", "error": error}, {"error": error})
        return "failed"
    result = {
        "batch_id": outcome.batch_id,
        "skipped": [
            {"adjustment": s.adjustment_id, "lot": s.lot, "request": s.request, "reason": s.reason}
            for s in outcome.skipped
        ],
    }
    _finish(
        database,
        job_id,
        {
            "status": "done",
            "progress": 1.0,
            "message": "done",
            "result": result,
            "batch_id": outcome.batch_id,
        },
        {"batch_id": outcome.batch_id},
    )
    return "done"


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.jobs JOB_ID``: run one queued batch job in this process, on
    the database of the environment (``JESSR_DATABASE_URL``). Exit 0 when the job is
    done (or was not queued), 1 when it failed (the reason is on the job)."""
    import sys

    from engine.config import Settings
    from engine.db.session import open_database

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m engine.jobs JOB_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    with open_database(settings) as database:
        status = run_batch_job(database, int(args[0]), settings.broker_url)
        return 1 if status == "failed" else 0


if __name__ == "__main__":
    raise SystemExit(main())
