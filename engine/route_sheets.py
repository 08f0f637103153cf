"""A volunteer's route sheet: what to pick up and deliver on a date, in order.

A route sheet is built from the published (or closed) batches of the date in which
the volunteer has allocations — usually one, more when a later round was planned
the same day — each giving a *round*: the ordered visits of the volunteer's route
in that batch's plan (``routes[].visits``, with the plan's estimated ``arrival``
times) and, at each visit, the allocations picked up and delivered there with
their category, quantity and current status (from the allocation rows, which
``batch publish`` stored with each allocation's pickup and delivery position).

What a sheet never holds: a household's pseudonym or id, a request's ref or id, a
name, phone or address of a household. A delivery is named by its rank on the
route ("Delivery 3"), because request refs are chosen by each organization and
may well be a family name or an ID number. The household's coordinates are the
address in another form: a delivery stop is located only inside the contact
window of :mod:`engine.reveals` (from publication until one day after the
delivery); outside it the stop keeps its rank, arrival time and region only.

Plans of a national day are large; the part of a plan the sheets need (which route
carries each allocation) is kept in a small cache keyed by the plan's SHA-256 (a
stored plan never changes), so a volunteer opening the page again costs one
indexed query on the allocations, not a parse of the whole plan.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import reveals
from engine.access import Actor, require_role
from engine.errors import Forbidden
from engine.models.batches import Allocation, Batch
from engine.models.people import Volunteer
from engine.models.reference import Category, Site
from engine.models.requests import Request
from engine.models.supplies import SupplyLot
from engine.status import can_transition

VISIBLE_BATCHES = reveals.VISIBLE_BATCHES
# The marks offered for an allocation at its pickup stop and at its delivery stop.
PICKUP_MARKS = ("picked_up", "failed")
DELIVERY_MARKS = ("delivered", "failed")
PLAN_CACHE_SIZE = 4


@dataclass(frozen=True)
class Item:
    """One allocation at one stop: picked up there, or delivered there."""

    allocation_id: int
    number: int  # the allocation's delivery rank on its round: "Delivery 3"
    category_id: str
    quantity: int
    weight_kg: float  # the whole quantity's
    status: str  # the allocation's status
    offered: tuple[str, ...]  # the marks this stop offers (PICKUP_MARKS / DELIVERY_MARKS)
    possible: tuple[str, ...]  # those the allocation's status allows now
    contact: bool  # a delivery whose household contact may be revealed now


@dataclass(frozen=True)
class Stop:
    """A visit of the route, numbered from 1 in the plan's order."""

    number: int
    lat: float | None  # None: a household's place outside its contact window
    lon: float | None
    arrival: str | None  # "HH:MM", the plan's estimate
    region_code: str | None
    place: str | None  # a pickup site's name (an organization's place, not personal)
    address: str | None  # that site's address
    pickups: tuple[Item, ...]
    deliveries: tuple[Item, ...]

    @property
    def kind(self) -> str:
        """``pickup``, ``delivery`` or ``both``."""
        if self.pickups and self.deliveries:
            return "both"
        return "pickup" if self.pickups else "delivery"

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class Round:
    """The volunteer's route in one batch."""

    batch_id: int
    batch_status: str
    published_at: datetime | None
    distance_km: float | None
    stops: tuple[Stop, ...]

    @property
    def items(self) -> list[Item]:
        return [i for s in self.stops for i in (*s.pickups, *s.deliveries)]


@dataclass(frozen=True)
class RouteSheet:
    """A volunteer's rounds of one date (empty when nothing was published for them)."""

    day: date
    volunteer_id: int
    home: tuple[float, float]
    shift: tuple[time, time]
    rounds: tuple[Round, ...]

    @property
    def allocation_ids(self) -> set[int]:
        return {i.allocation_id for r in self.rounds for i in r.items}


class _PlanCache:
    """plan SHA-256 -> {allocation plan id: (route distance, [visit (lat, lon, arrival)])}."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, session: Session, batch_id: int, sha: str) -> dict[str, Any]:
        with self.lock:
            if sha in self.entries:
                self.entries.move_to_end(sha)
                return self.entries[sha]
        text = session.execute(select(Batch.plan).where(Batch.id == batch_id)).scalar_one()
        index = _route_index(text)
        with self.lock:
            self.entries[sha] = index
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return index


def _route_index(plan_text: str) -> dict[str, Any]:
    """Which route carries each allocation of a plan document (its visits' places and times)."""
    try:
        plan = json.loads(plan_text)
    except ValueError:
        return {}
    index: dict[str, Any] = {}
    for route in plan.get("routes", []) if isinstance(plan, dict) else []:
        visits = [(v.get("lat"), v.get("lon"), v.get("arrival")) for v in route.get("visits", [])]
        entry = (route.get("distance_km"), visits)
        for visit in route.get("visits", []):
            for aid in (*visit.get("pickups", []), *visit.get("deliveries", [])):
                index[aid] = entry
    return index


_plans = _PlanCache(PLAN_CACHE_SIZE)


def volunteer_of(session: Session, actor: Actor) -> Volunteer:
    """The volunteer record of a volunteer account (Forbidden for any other account)."""
    require_role(actor, "volunteer")
    volunteer = session.get(Volunteer, actor.volunteer_id) if actor.volunteer_id else None
    if volunteer is None:
        raise Forbidden("this account is linked to no volunteer record")
    return volunteer


def route_sheet(
    session: Session, actor: Actor, day: date, *, at: datetime | None = None
) -> RouteSheet:
    """The route sheet of the signed-in volunteer ``actor`` on ``day``.

    ``at`` (default now) decides which household places lie inside their contact
    window. Reads only; records nothing (opening one's route reveals no contact).
    """
    volunteer = volunteer_of(session, actor)
    moment = at if at is not None else reveals.now()
    batches = session.execute(
        select(Batch.id, Batch.status, Batch.published_at, Batch.plan_sha256, Batch.date)
        .where(
            Batch.date == day,
            Batch.status.in_(VISIBLE_BATCHES),
            Batch.id.in_(
                select(Allocation.batch_id).where(Allocation.volunteer_id == volunteer.id)
            ),
        )
        .order_by(Batch.id)
    ).all()
    rows = (
        session.execute(
            select(
                Allocation.id,
                Allocation.batch_id,
                Allocation.plan_id,
                Allocation.quantity,
                Allocation.status,
                Allocation.pickup_position,
                Allocation.delivery_position,
                SupplyLot.category_id,
                SupplyLot.lat.label("lot_lat"),
                SupplyLot.lon.label("lot_lon"),
                SupplyLot.region_code.label("lot_region"),
                Site.name.label("site_name"),
                Site.address.label("site_address"),
                Site.lat.label("site_lat"),
                Site.lon.label("site_lon"),
                Site.region_code.label("site_region"),
                # The request's place and region only: never its name, phone, address,
                # ref or household.
                Request.lat.label("request_lat"),
                Request.lon.label("request_lon"),
                Request.region_code.label("request_region"),
                Category.weight_kg,
            )
            .join(SupplyLot, SupplyLot.id == Allocation.lot_id)
            .outerjoin(Site, Site.id == SupplyLot.site_id)
            .join(Request, Request.id == Allocation.request_id)
            .join(Category, Category.id == SupplyLot.category_id)
            .where(
                Allocation.volunteer_id == volunteer.id,
                Allocation.batch_id.in_([b.id for b in batches]),
            )
            .order_by(Allocation.batch_id, Allocation.id)
        ).all()
        if batches
        else []
    )
    delivered = reveals.delivered_at(session, [r.id for r in rows])
    rounds = []
    for batch in batches:
        mine = [r for r in rows if r.batch_id == batch.id]
        if mine:
            index = _plans.get(session, batch.id, batch.plan_sha256)
            rounds.append(_round(batch, mine, index, delivered, moment))
    return RouteSheet(
        day=day,
        volunteer_id=volunteer.id,
        home=(volunteer.home_lat, volunteer.home_lon),
        shift=(volunteer.shift_start, volunteer.shift_end),
        rounds=tuple(rounds),
    )


def _round(
    batch: Any,
    rows: Sequence[Any],
    index: dict[str, Any],
    delivered: dict[int, datetime],
    moment: datetime,
) -> Round:
    route = next((index[r.plan_id] for r in rows if r.plan_id in index), None)
    distance, visits = route if route is not None else (None, [])
    published = batch.status == "published"
    # Delivery ranks: in the order the route delivers (position, then plan order).
    ranked = sorted(
        rows,
        key=lambda r: (
            r.delivery_position if r.delivery_position is not None else 10**9,
            _plan_number(r.plan_id),
        ),
    )
    number = {r.id: rank for rank, r in enumerate(ranked, start=1)}
    positions = sorted(
        {p for r in rows for p in (r.pickup_position, r.delivery_position) if p is not None}
    )
    stops = []
    for rank, position in enumerate(positions, start=1):
        pickups = [r for r in rows if r.pickup_position == position]
        deliveries = [r for r in rows if r.delivery_position == position]
        open_deliveries = []
        for r in deliveries:
            window = reveals.contact_window(
                batch.date, batch.status, batch.published_at, r.status, delivered.get(r.id)
            )
            open_deliveries.append(window is not None and window.contains(moment))
        visit = visits[position] if position < len(visits) else None
        if pickups:
            first = pickups[0]
            lat = first.site_lat if first.site_lat is not None else first.lot_lat
            lon = first.site_lon if first.site_lon is not None else first.lot_lon
            region = first.site_region or first.lot_region
            place, address = first.site_name, first.site_address
        else:
            lat, lon = deliveries[0].request_lat, deliveries[0].request_lon
            region, place, address = deliveries[0].request_region, None, None
        if visit is not None and visit[0] is not None and visit[1] is not None:
            lat, lon = visit[0], visit[1]
        if not pickups and not any(open_deliveries):
            lat = lon = None  # a household's place, outside its window
        stops.append(
            Stop(
                number=position + 1 if visits else rank,
                lat=lat,
                lon=lon,
                arrival=visit[2] if visit is not None else None,
                region_code=region,
                place=place,
                address=address,
                pickups=tuple(_item(r, number[r.id], PICKUP_MARKS, published) for r in pickups),
                deliveries=tuple(
                    _item(r, number[r.id], DELIVERY_MARKS, published, contact=shown)
                    for r, shown in zip(deliveries, open_deliveries, strict=True)
                ),
            )
        )
    return Round(
        batch_id=batch.id,
        batch_status=batch.status,
        published_at=batch.published_at,
        distance_km=distance,
        stops=tuple(stops),
    )


def _plan_number(plan_id: str) -> tuple[int, str]:
    digits = "".join(c for c in plan_id if c.isdigit())
    return (int(digits) if digits else 0, plan_id)


def possible_marks(status: str, offered: Sequence[str], published: bool = True) -> tuple[str, ...]:
    """The marks among ``offered`` that an allocation in ``status`` allows now."""
    if not published:
        return ()
    return tuple(k for k in offered if can_transition("allocations", status, k))


def _item(
    row: Any, number: int, offered: tuple[str, ...], published: bool, *, contact: bool = False
) -> Item:
    return Item(
        allocation_id=row.id,
        number=number,
        category_id=row.category_id,
        quantity=row.quantity,
        weight_kg=row.quantity * row.weight_kg,
        status=row.status,
        offered=offered,
        possible=possible_marks(row.status, offered, published),
        contact=contact,
    )


def route_days(session: Session, actor: Actor, start: date, days: int) -> list[date]:
    """The dates from ``start`` (``days`` of them) on which ``actor`` has a published route."""
    volunteer = volunteer_of(session, actor)
    end = start + timedelta(days=days - 1)
    found = session.execute(
        select(Batch.date)
        .where(
            Batch.date.between(start, end),
            Batch.status.in_(VISIBLE_BATCHES),
            Batch.id.in_(
                select(Allocation.batch_id).where(Allocation.volunteer_id == volunteer.id)
            ),
        )
        .distinct()
        .order_by(Batch.date)
    )
    return list(found.scalars())
