"""Supply lots: stock an organization received, with what is reserved and delivered."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, JSONValue, Timestamp, utcnow


class SupplyLot(Base):
    """A lot of one category: ``quantity_received`` units, of which some are reserved
    (by published allocations not yet delivered or failed) and some delivered.

    Stock available to a new batch is ``received - reserved - delivered``. The CHECK
    constraints make over-allocation impossible whatever the code does: no quantity
    is negative and ``reserved + delivered <= received``. Reserving stock is a
    conditional ``UPDATE … SET quantity_reserved = quantity_reserved + :n WHERE
    quantity_reserved + quantity_delivered + :n <= quantity_received`` with a
    row-count check; the CHECK is the last line of defence.

    The lot lies at its ``site`` (whose coordinates and region apply) or at its own
    ``lat``/``lon`` in ``region_code``; one of the two must be given. ``regions`` is
    the donor's restriction: the region codes the stock may go to (NULL: anywhere).
    """

    __tablename__ = "supply_lots"
    __table_args__ = (
        UniqueConstraint("org_id", "ref"),
        CheckConstraint("quantity_received >= 0", name="received_nonnegative"),
        CheckConstraint("quantity_reserved >= 0", name="reserved_nonnegative"),
        CheckConstraint("quantity_delivered >= 0", name="delivered_nonnegative"),
        CheckConstraint(
            "quantity_reserved + quantity_delivered <= quantity_received", name="within_received"
        ),
        CheckConstraint(
            "site_id IS NOT NULL OR (lat IS NOT NULL AND lon IS NOT NULL "
            "AND region_code IS NOT NULL)",
            name="located",
        ),
        CheckConstraint("lat IS NULL OR lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon IS NULL OR lon BETWEEN -180 AND 180", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    quantity_received: Mapped[int] = mapped_column(Integer)
    quantity_reserved: Mapped[int] = mapped_column(Integer, default=0)
    quantity_delivered: Mapped[int] = mapped_column(Integer, default=0)
    expires: Mapped[date | None] = mapped_column(Date)
    donor: Mapped[str | None] = mapped_column(String(300))
    regions: Mapped[list[str] | None] = mapped_column(JSONValue)
    received_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    @property
    def quantity_available(self) -> int:
        """Units neither reserved nor delivered."""
        return self.quantity_received - self.quantity_reserved - self.quantity_delivered
