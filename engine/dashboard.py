"""The coordinator's day at a glance: open needs, stock, volunteers, and where they are.

:func:`day_dashboard` counts what the day's batch would see (the rules of
:mod:`engine.snapshot`), for one organization or, for an admin, every one:

* needs: ``open`` requests filed on or before the day — count and units by
  region, by category and by priority;
* stock: units available (``received - reserved - delivered``) of lots received
  on or before the day (no date: received) and not expired on it, by category
  and by region (a lot's region is its site's when it lies at one); lots whose
  date falls within ``expiring_days`` of the day are flagged;
* volunteers: active volunteers whose ``days`` include the day
  (:func:`engine.snapshot.available_on`), with their capacity;
* points for a map: needs, stock and volunteers' homes (at most
  :data:`MAX_POINTS` of each kind; the rest is counted).

Statuses are the current ones: for a past day the figures are what is still
open of what was filed by then. Scope as :func:`engine.listings.scope_of`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.access import Actor, require_role
from engine.listings import READ_ROLES, scope_of
from engine.models import Organization, Request, Site, SupplyLot, Volunteer
from engine.snapshot import available_on

EXPIRING_DAYS = 7
MAX_POINTS = 2000
MAX_EXPIRING = 100


@dataclass(frozen=True)
class Tally:
    """Open requests of one region, category or priority: how many, how many units."""

    key: Any
    count: int
    units: int


@dataclass(frozen=True)
class StockTally:
    """Available stock of one category or region: lots, units, units expiring soon."""

    key: str
    lots: int
    units: int
    expiring_units: int


@dataclass(frozen=True)
class ExpiringLot:
    id: int
    org: str
    ref: str
    category: str
    region: str | None
    units: int
    expires: date
    days_left: int


@dataclass(frozen=True)
class DayVolunteer:
    id: int
    org: str
    ref: str
    vehicle: str | None
    capacity_kg: float
    shift_start: time
    shift_end: time


@dataclass(frozen=True)
class Point:
    """A place for the map: ``kind`` ``need``, ``stock`` or ``home``."""

    kind: str
    lat: float
    lon: float
    org: str
    ref: str
    category: str | None = None
    units: int | None = None


@dataclass(frozen=True)
class Dashboard:
    """The figures of one day (see the module docstring)."""

    day: date
    org_id: int | None  # None: every organization
    expiring_days: int
    needs: Tally
    needs_by_region: list[Tally]
    needs_by_category: list[Tally]
    needs_by_priority: list[Tally]
    stock: StockTally
    stock_by_category: list[StockTally]
    stock_by_region: list[StockTally]
    expiring: list[ExpiringLot]
    volunteers: list[DayVolunteer]
    points: list[Point] = field(default_factory=list)
    points_left_out: int = 0

    @property
    def capacity_kg(self) -> float:
        """The day's volunteers' capacity, together."""
        return sum(v.capacity_kg for v in self.volunteers)


def day_dashboard(
    session: Session,
    actor: Actor,
    day: date,
    *,
    org_id: int | None = None,
    expiring_days: int = EXPIRING_DAYS,
) -> Dashboard:
    """The figures of ``day`` for ``actor``'s organization (an admin: ``org_id``, or all)."""
    require_role(actor, *READ_ROLES)
    scope = scope_of(actor, org_id)
    points: list[Point] = []
    left_out = 0

    # -- needs
    r = Request
    open_on = and_(r.status == "open", r.filed <= day)
    if scope is not None:
        open_on = and_(open_on, r.org_id == scope)

    def tallies(column: Any) -> list[Tally]:
        rows = session.execute(
            select(column, func.count(), func.sum(r.quantity)).where(open_on).group_by(column)
        )
        return [Tally(key, int(n), int(units or 0)) for key, n, units in rows]

    by_region = sorted(tallies(r.region_code), key=lambda t: (-t.units, t.key))
    by_category = sorted(tallies(r.category_id), key=lambda t: (-t.units, t.key))
    by_priority = sorted(tallies(r.priority), key=lambda t: -t.key)
    needs = Tally("all", sum(t.count for t in by_priority), sum(t.units for t in by_priority))
    need_rows = session.execute(
        select(r.lat, r.lon, Organization.code, r.ref, r.category_id, r.quantity)
        .join(Organization, Organization.id == r.org_id)
        .where(open_on)
        .order_by(r.priority.desc(), r.filed, r.id)
        .limit(MAX_POINTS)
    ).all()
    points += [Point("need", *row) for row in need_rows]
    left_out += needs.count - len(need_rows)

    # -- stock
    lot = SupplyLot
    stock = lot.quantity_received - lot.quantity_reserved - lot.quantity_delivered
    region = func.coalesce(Site.region_code, lot.region_code)
    soon = day + timedelta(days=expiring_days)
    expiring = and_(lot.expires.is_not(None), lot.expires <= soon)
    usable = and_(
        stock > 0,
        or_(lot.expires.is_(None), lot.expires >= day),
        or_(lot.received_on.is_(None), lot.received_on <= day),
    )
    if scope is not None:
        usable = and_(usable, lot.org_id == scope)

    def stock_tallies(column: Any) -> list[StockTally]:
        rows = session.execute(
            select(
                column,
                func.count(),
                func.sum(stock),
                func.sum(case((expiring, stock), else_=0)),
            )
            .select_from(lot)
            .outerjoin(Site, Site.id == lot.site_id)
            .where(usable)
            .group_by(column)
        )
        return [
            StockTally(key, int(n), int(units or 0), int(soon_units or 0))
            for key, n, units, soon_units in rows
        ]

    stock_by_category = sorted(stock_tallies(lot.category_id), key=lambda t: (-t.units, t.key))
    stock_by_region = sorted(stock_tallies(region), key=lambda t: (-t.units, t.key or ""))
    stock_total = StockTally(
        "all",
        sum(t.lots for t in stock_by_category),
        sum(t.units for t in stock_by_category),
        sum(t.expiring_units for t in stock_by_category),
    )
    expiring_rows = session.execute(
        select(lot.id, Organization.code, lot.ref, lot.category_id, region, stock, lot.expires)
        .join(Organization, Organization.id == lot.org_id)
        .outerjoin(Site, Site.id == lot.site_id)
        .where(usable, expiring)
        .order_by(lot.expires, Organization.code, lot.ref)
        .limit(MAX_EXPIRING)
    ).all()
    expiring_lots = [
        ExpiringLot(*row[:5], int(row[5]), row[6], (row[6] - day).days) for row in expiring_rows
    ]
    stock_rows = session.execute(
        select(
            func.coalesce(Site.lat, lot.lat),
            func.coalesce(Site.lon, lot.lon),
            Organization.code,
            lot.ref,
            lot.category_id,
            stock,
        )
        .join(Organization, Organization.id == lot.org_id)
        .outerjoin(Site, Site.id == lot.site_id)
        .where(usable)
        .order_by(lot.expires.is_(None), lot.expires, lot.id)
        .limit(MAX_POINTS)
    ).all()
    points += [
        Point("stock", row[0], row[1], row[2], row[3], row[4], int(row[5])) for row in stock_rows
    ]
    left_out += stock_total.lots - len(stock_rows)

    # -- volunteers (``days`` is a JSON list: filtered here, as the snapshot does)
    v = Volunteer
    query = (
        select(
            v.id,
            Organization.code,
            v.ref,
            v.vehicle,
            v.capacity_kg,
            v.shift_start,
            v.shift_end,
            v.days,
            v.home_lat,
            v.home_lon,
        )
        .join(Organization, Organization.id == v.org_id)
        .where(v.active.is_(True))
        .order_by(Organization.code, v.ref)
    )
    if scope is not None:
        query = query.where(v.org_id == scope)
    volunteers = []
    homes = 0
    for row in session.execute(query):
        if not available_on(row.days, day):
            continue
        volunteers.append(DayVolunteer(*row[:7]))
        if homes < MAX_POINTS:
            points.append(Point("home", row.home_lat, row.home_lon, row.code, row.ref))
            homes += 1
        else:
            left_out += 1

    return Dashboard(
        day=day,
        org_id=scope,
        expiring_days=expiring_days,
        needs=needs,
        needs_by_region=by_region,
        needs_by_category=by_category,
        needs_by_priority=by_priority,
        stock=stock_total,
        stock_by_category=stock_by_category,
        stock_by_region=stock_by_region,
        expiring=expiring_lots,
        volunteers=volunteers,
        points=points,
        points_left_out=left_out,
    )
