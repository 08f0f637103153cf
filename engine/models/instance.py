"""Facts about this database itself (one row per name)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, Timestamp, utcnow


class InstanceSetting(Base):
    """A named value the database keeps about itself.

    ``household_key_check``: ``HMAC-SHA256(household key, "jessr household key
    check v1")``, written the first time households are pseudonymised, so a
    process holding another key (a ``var/household.key`` generated in another
    working directory) is refused instead of silently creating new households
    (``engine.keys.check_household_key``). It reveals nothing about the key.
    """

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
