"""Row factories for platform tests: minimal valid records, overridable by keyword.

Each takes a session, adds the row, flushes (so ids exist) and returns it; the test
commits when it needs other sessions or processes to see the rows.
"""

from __future__ import annotations

import hashlib
from datetime import date, time
from typing import Any

from sqlalchemy.orm import Session

from engine.models import (
    Household,
    Organization,
    Request,
    Site,
    SupplyLot,
    User,
    Volunteer,
)

DAY = date(2026, 11, 28)
TUNIS = (36.8065, 10.1815)
KASSERINE = (35.1676, 8.8365)


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def make_org(session: Session, code: str = "crt", region: str = "TN-11", **kw: Any) -> Organization:
    """An organization (default ``crt`` in Tunis)."""
    return _add(
        session,
        Organization(code=code, name=kw.pop("name", code.upper()), region_code=region, **kw),
    )


def make_site(session: Session, org: Organization, code: str = "depot", **kw: Any) -> Site:
    """A site of ``org`` (default in Tunis)."""
    lat, lon = kw.pop("at", TUNIS)
    return _add(
        session,
        Site(
            org_id=org.id,
            code=code,
            name=kw.pop("name", code),
            region_code=kw.pop("region", org.region_code),
            lat=lat,
            lon=lon,
            **kw,
        ),
    )


def make_lot(
    session: Session, org: Organization, ref: str = "L1", quantity: int = 10, **kw: Any
) -> SupplyLot:
    """A supply lot of ``org`` (default: 10 food baskets at Tunis, TN-11)."""
    if "site" in kw:
        site = kw.pop("site")
        kw.update(site_id=site.id, lat=None, lon=None, region_code=None)
    else:
        lat, lon = kw.pop("at", TUNIS)
        kw.setdefault("lat", lat)
        kw.setdefault("lon", lon)
        kw.setdefault("region_code", kw.pop("region", "TN-11"))
    kw.setdefault("category_id", kw.pop("category", "food.basket"))
    kw.setdefault("quantity_reserved", 0)
    kw.setdefault("quantity_delivered", 0)
    return _add(session, SupplyLot(org_id=org.id, ref=ref, quantity_received=quantity, **kw))


def make_household(session: Session, identifier: str = "household-1") -> Household:
    """A household whose pseudonym derives from ``identifier`` (a test stand-in for
    the HMAC; tests of pseudonymisation use the real function)."""
    pseudonym = hashlib.sha256(f"test:{identifier}".encode()).hexdigest()
    return _add(session, Household(pseudonym=pseudonym))


def make_request(
    session: Session,
    org: Organization,
    ref: str = "R1",
    household: Household | None = None,
    **kw: Any,
) -> Request:
    """An open request of ``org`` (default: 1 food basket, priority 3, Kasserine)."""
    household = household or make_household(session, f"{org.code}/{ref}")
    lat, lon = kw.pop("at", KASSERINE)
    kw.setdefault("lat", lat)
    kw.setdefault("lon", lon)
    kw.setdefault("region_code", kw.pop("region", "TN-42"))
    kw.setdefault("category_id", kw.pop("category", "food.basket"))
    kw.setdefault("quantity", 1)
    kw.setdefault("priority", 3)
    kw.setdefault("filed", DAY)
    kw.setdefault("status", "open")
    return _add(session, Request(org_id=org.id, ref=ref, household_id=household.id, **kw))


def make_volunteer(session: Session, org: Organization, ref: str = "V1", **kw: Any) -> Volunteer:
    """A volunteer of ``org`` (default: 400 kg, home in Tunis, 08:00–16:00, every day)."""
    lat, lon = kw.pop("at", TUNIS)
    kw.setdefault("home_lat", lat)
    kw.setdefault("home_lon", lon)
    kw.setdefault("name", f"Volunteer {ref}")
    kw.setdefault("capacity_kg", 400.0)
    kw.setdefault("shift_start", time(8))
    kw.setdefault("shift_end", time(16))
    return _add(session, Volunteer(org_id=org.id, ref=ref, **kw))


def make_user(
    session: Session,
    email: str = "coordinator@example.org",
    role: str = "coordinator",
    org: Organization | None = None,
    **kw: Any,
) -> User:
    """An account (no password unless ``password_hash`` is given)."""
    return _add(session, User(email=email, role=role, org_id=org.id if org else None, **kw))
