"""Background jobs (a batch run started from the web), with their progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, JSONValue, Timestamp, utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """One background job: what it runs, who asked, how far it is, what it gave.

    Kept in the database, not in a process, so every web worker (and later a
    Celery worker) sees the same progress. ``progress`` is in [0, 1]; ``message``
    is the current step; ``result`` what the job returns (e.g. the batch id) and
    ``error`` the one-line reason when it failed.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(String(300))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    error: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Last sign of life of the process running the job: a queued or running job
    # whose heartbeat is older than engine.jobs.STALE_SECONDS lost its runner.
    heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Set while the job is queued or running, NULL after: the unique index lets one
    # job at a time hold a key (a batch job holds "batch:<date>").
    lock_key: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
