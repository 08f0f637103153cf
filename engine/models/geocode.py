"""The geocoding cache: one row per normalised query text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, Timestamp, utcnow


class GeocodeCache(Base):
    """A geocoder's answer to ``query`` (``engine.geocode.cache_key`` of an address):
    coordinates and the service's description, or ``found = False``.

    A miss is cached too (a row whose place cannot be found stays a bad row without
    asking the service again). Queries are addresses, so they are personal data
    when they come from requests: the retention purge may delete old rows (the
    cache is not part of the archive).
    """

    __tablename__ = "geocode_cache"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(Text, unique=True)
    found: Mapped[bool] = mapped_column()
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    display_name: Mapped[str | None] = mapped_column(Text)  # the service's description
    fetched_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
