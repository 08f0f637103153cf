"""The archive: hash-chained audit events and the single-row chain head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, Timestamp

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One state change: who (``actor``), when (``at``), what (``action`` on
    ``entity_type``/``entity_id``), ``before``/``after`` as canonical JSON text.

    ``hash = sha256(prev_hash + canonical JSON of the event fields +
    personal_digest)`` (``engine.audit``). ``personal`` holds the event's personal
    data (names, phones, addresses) as canonical JSON with a random per-event
    salt; only its digest enters the chain, so the retention purge can set
    ``personal`` to NULL and the chain still verifies — and, the salt being erased
    with it, an erased name cannot be confirmed by guessing against the digest.
    On PostgreSQL a trigger refuses every UPDATE and DELETE of this table except an
    UPDATE that only sets ``personal`` to NULL.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(Timestamp)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    personal: Mapped[str | None] = mapped_column(Text)
    personal_digest: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain head: the last event's ``seq`` and ``hash``, in one row (``id = 1``).

    Appending moves it with ``UPDATE … WHERE seq = :expected`` and a row-count check,
    so two writers can never both append after the same event (no fork, no
    reordering) on SQLite or PostgreSQL. The initial migration inserts the row
    (``seq = 0``, ``hash`` = 64 zeros).
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
