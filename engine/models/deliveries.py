"""Delivery events: what happened to an allocation on the road."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, Timestamp, utcnow

DELIVERY_KINDS = ("picked_up", "delivered", "failed")


class Delivery(Base):
    """One report on an allocation: picked up, delivered or failed (with a reason).

    ``by_user_id`` is the reporting account when known; ``actor`` is the actor string
    recorded in the archive (an email, or ``cli:<login>``).
    """

    __tablename__ = "deliveries"
    __table_args__ = (CheckConstraint("kind IN ('picked_up', 'delivered', 'failed')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(320))
    # A client's key for this report (the volunteer page sends marks made offline
    # again until acknowledged): a repeated key is the same report, applied once.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
