"""Reference records: regions and categories (seeded from ``data/``), organizations, sites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base, JSONValue, Timestamp, utcnow

LAT_CHECK = "lat BETWEEN -90 AND 90"
LON_CHECK = "lon BETWEEN -180 AND 180"


class Region(Base):
    """An administrative region (ISO 3166-2 code), from ``data/regions/<CC>.json``."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(200))  # English name, for listings
    names: Mapped[dict[str, str]] = mapped_column(JSONValue)  # language -> name
    capital: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)  # the capital's coordinates
    lon: Mapped[float] = mapped_column(Float)


class Category(Base):
    """An aid category of the catalogue (``data/categories.json``)."""

    __tablename__ = "categories"
    __table_args__ = (CheckConstraint("weight_kg > 0", name="weight_positive"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "food.basket"
    unit: Mapped[str] = mapped_column(String(64))
    weight_kg: Mapped[float] = mapped_column(Float)
    perishable: Mapped[bool] = mapped_column(default=False)
    names: Mapped[dict[str, str]] = mapped_column(JSONValue)


class Organization(Base):
    """A member organization of the network (an association, a regional branch)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class Site(Base):
    """A place of an organization where stock is kept (a depot, a branch office)."""

    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("org_id", "code"),
        CheckConstraint(LAT_CHECK, name="lat_range"),
        CheckConstraint(LON_CHECK, name="lon_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(Text)  # an organization's address, not personal
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
