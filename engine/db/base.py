"""The declarative base of every model, and column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase

# Constraint names fixed by convention, so a migration can name what it alters and
# the same model gives the same names on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON where SQL NULL (not the JSON literal null) means "absent".
JSONValue = JSON(none_as_null=True)
# Aware timestamps. SQLite keeps no zone: values read back there are naive UTC
# (see :func:`as_utc`).
Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Base class of the ORM models (SQLAlchemy 2 typed declarative)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values, as SQLite returns them, are UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
