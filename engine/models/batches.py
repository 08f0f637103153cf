"""Batches (one solved day) and their allocations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, JSONValue, Timestamp, utcnow

BATCH_STATUSES = ("draft", "published", "closed", "superseded")
ALLOCATION_STATUSES = ("planned", "picked_up", "delivered", "failed", "cancelled")


class Batch(Base):
    """A day's batch: the exact scenario solved and the plan found, with content hashes.

    ``scenario`` and ``plan`` are the exchange-format documents as stored text (the
    bytes ``batch show`` prints and ``batch replay`` compares), ``*_sha256`` their
    SHA-256 in hex. ``seed``, ``time_limit``/``iterations`` and ``params`` (the full
    solve parameters) are what a replay needs; ``search_record`` is what the
    time-limited searches did (e.g. the iterations each performed), so that a
    replay bounded by the same iterations is deterministic. At most one draft
    exists per date (a partial unique index): a new draft supersedes the older.
    """

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'closed', 'superseded')", name="status"),
        CheckConstraint("time_limit IS NULL OR time_limit > 0", name="time_limit_positive"),
        CheckConstraint("iterations IS NULL OR iterations > 0", name="iterations_positive"),
        Index(
            "ix_batches_one_draft_per_date",
            "date",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    time_limit: Mapped[float | None] = mapped_column(Float)
    iterations: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    search_record: Mapped[Any | None] = mapped_column(JSONValue)
    scenario: Mapped[str] = mapped_column(Text)
    scenario_sha256: Mapped[str] = mapped_column(String(64))
    plan: Mapped[str] = mapped_column(Text)
    plan_sha256: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    created_by: Mapped[str] = mapped_column(String(320))  # the actor, as in the archive
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(Timestamp)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))


class Allocation(Base):
    """``quantity`` units of a lot for a request, in a batch (plan id ``A17`` etc.).

    A routed allocation names its volunteer and the positions (0-based visit
    indexes) of its pickup and delivery on that volunteer's route; an unrouted one
    has ``unrouted_reason`` (the plan's reason) instead. Status changes go through
    ``engine.status.transition``.
    """

    __tablename__ = "allocations"
    __table_args__ = (
        UniqueConstraint("batch_id", "plan_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "status IN ('planned', 'picked_up', 'delivered', 'failed', 'cancelled')",
            name="status",
        ),
        CheckConstraint(
            "volunteer_id IS NULL OR unrouted_reason IS NULL", name="routed_or_unrouted"
        ),
        CheckConstraint(
            "pickup_position IS NULL OR delivery_position IS NULL "
            "OR pickup_position < delivery_position",
            name="pickup_before_delivery",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    plan_id: Mapped[str] = mapped_column(String(32))
    lot_id: Mapped[int] = mapped_column(ForeignKey("supply_lots.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    pickup_position: Mapped[int | None] = mapped_column(Integer)
    delivery_position: Mapped[int | None] = mapped_column(Integer)
    unrouted_reason: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
