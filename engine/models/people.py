"""People: user accounts, volunteers, and households (known only by a pseudonym)."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, JSONValue, Timestamp, utcnow

ROLES = ("admin", "coordinator", "staff", "volunteer")


class Volunteer(Base):
    """A volunteer driver of an organization: vehicle, capacity, home, shift, days.

    ``name`` and ``phone`` are personal data (erased by the retention purge once
    the volunteer is inactive past the retention period; ``personal_erased_at``).
    ``days`` lists ISO dates and/or weekday names (``mon`` … ``sun``); NULL means
    every day.
    """

    __tablename__ = "volunteers"
    __table_args__ = (
        UniqueConstraint("org_id", "ref"),
        CheckConstraint("capacity_kg > 0", name="capacity_positive"),
        CheckConstraint("speed_kmh IS NULL OR speed_kmh > 0", name="speed_positive"),
        CheckConstraint("home_lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("home_lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("shift_end > shift_start", name="shift_order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(64))
    vehicle: Mapped[str | None] = mapped_column(String(100))
    capacity_kg: Mapped[float] = mapped_column(Float)
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    shift_start: Mapped[time] = mapped_column(Time)
    shift_end: Mapped[time] = mapped_column(Time)
    speed_kmh: Mapped[float | None] = mapped_column(Float)  # NULL: the format's default (30)
    days: Mapped[list[str] | None] = mapped_column(JSONValue)
    active: Mapped[bool] = mapped_column(default=True)
    personal_erased_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class User(Base):
    """An account: an email, a role, an organization, optionally a volunteer record.

    ``password_hash`` is an Argon2id hash (``engine.users.hash_password``), NULL for
    an account that cannot log in with a password (yet).
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'coordinator', 'staff', 'volunteer')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    role: Mapped[str] = mapped_column(String(16))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))  # the web interface's language
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class Household(Base):
    """A family, known only by the HMAC-SHA256 of its identifier.

    The identifier an organization gives (often a national ID number) is never
    stored: ``pseudonym`` is ``HMAC-SHA256(JESSR_HOUSEHOLD_KEY, identifier)`` in hex
    (``engine.households.pseudonym``), so the same family is recognised across
    organizations while a database dump reveals no identifier.
    """

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
