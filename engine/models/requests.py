"""Requests: a household's need for units of a category, and its status."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, Timestamp, utcnow

REQUEST_STATUSES = ("open", "allocated", "in_transit", "delivered", "failed", "cancelled")
# Statuses after which nothing more happens to a request (retention counts from
# ``closed_at``, set on entering one of them).
REQUEST_CLOSED = ("delivered", "cancelled")


class Request(Base):
    """A request of an organization for a household (``org_id`` + ``ref`` unique).

    ``name``, ``phone`` and ``address`` are personal data: the retention purge sets
    them to NULL past the retention period after ``closed_at`` and stamps
    ``personal_erased_at``. Coordinates stay (the plan and the history need them).
    Status changes go through ``engine.status.transition``.
    """

    __tablename__ = "requests"
    __table_args__ = (
        UniqueConstraint("org_id", "ref"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint(
            "status IN ('open', 'allocated', 'in_transit', 'delivered', 'failed', 'cancelled')",
            name="status",
        ),
        CheckConstraint(
            "window_start IS NULL OR window_end IS NULL OR window_end >= window_start",
            name="window_order",
        ),
        # The duplicate rule looks up a household's requests of a category.
        Index("ix_requests_household_category", "household_id", "category_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    filed: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    personal_erased_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
