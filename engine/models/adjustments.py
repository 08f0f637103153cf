"""A coordinator's adjustments of a day's plan: exclude or pin a lot–request pair."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, Timestamp, utcnow

ADJUSTMENT_KINDS = ("exclude", "pin")


class PlanAdjustment(Base):
    """``exclude``: the next runs of ``date`` must not give ``lot`` to ``request``;
    ``pin``: they must keep that allocation (``quantity`` units). Active until
    ``cleared_at``.
    """

    __tablename__ = "plan_adjustments"
    __table_args__ = (
        CheckConstraint("kind IN ('exclude', 'pin')", name="kind"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[int] = mapped_column(ForeignKey("supply_lots.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    quantity: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(Timestamp)
