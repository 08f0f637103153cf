"""Published batches and their routes, as the JSON API shows them to each role.

A thin layer over the services the pages use, so that the API shows no more than
they do:

* :func:`published_batches`: the published (and closed) batches, for coordinators
  and admins (a batch is national), with their allocations by status;
* :func:`batch_routes`: the routes of a published batch —
  a volunteer gets its own round from :func:`engine.route_sheets.route_sheet`
  (a household's place only inside its contact window, never a request's ref, a
  name, a phone or an address: the contact is revealed one delivery at a time by
  :func:`engine.reveals.reveal_contact`); a coordinator gets the route sheet
  (:func:`engine.review.route_sheet`) of each of its organization's volunteers
  routed in the batch, an admin every volunteer's (lot and request refs, regions
  and windows, never a household's contact or place);
* :func:`my_routes`: a volunteer's rounds of a date.

Both shapes become one :class:`Route` (fields a role does not get are ``None``),
with each allocation's current status from its row. A draft or unknown batch is
:class:`~engine.errors.NotFound` here: routes are shown once published. Delivery
reports go straight to :func:`engine.deliveries.mark_allocation`; :func:`allocation_id`
resolves the ``BATCH/A17`` form. Services take a session and never commit.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import review, route_sheets
from engine.access import Actor, require_role
from engine.errors import NotFound
from engine.intake import Page, org_codes
from engine.models import Allocation, Batch, Volunteer

VISIBLE = route_sheets.VISIBLE_BATCHES  # batch statuses whose routes are shown
ALLOCATION_REF = re.compile(r"([0-9]{1,9})/([A-Za-z0-9._-]{1,32})")


@dataclass(frozen=True, slots=True)
class Item:
    """One allocation at a stop: picked up there, or delivered there."""

    allocation: str  # BATCH/A17
    allocation_id: int
    status: str
    category: str
    quantity: int
    number: int | None  # a volunteer's sheet: the delivery's rank on the round
    lot: str | None  # a coordinator's sheet: ORG/REF
    request: str | None  # a coordinator's sheet: ORG/REF
    region: str | None  # a coordinator's sheet
    window: tuple[str, str] | None  # a coordinator's sheet, deliveries: HH:MM, HH:MM
    contact: bool  # a volunteer's delivery whose contact may be revealed now


@dataclass(frozen=True, slots=True)
class Stop:
    """One visit of a route, numbered from 1 in the plan's order."""

    number: int
    arrival: str | None  # HH:MM, as planned
    region: str | None
    place: str | None  # a pickup site's name
    lat: float | None  # a volunteer's sheet: None for a household outside its window
    lon: float | None
    pickups: list[Item]
    deliveries: list[Item]


@dataclass(frozen=True, slots=True)
class Route:
    """A volunteer's route in one published batch."""

    batch: int
    date: date
    volunteer: str  # ORG/REF
    volunteer_id: int
    distance_km: float | None
    stops: list[Stop]


@dataclass(frozen=True, slots=True)
class BatchView:
    """A published batch and how its allocations stand."""

    id: int
    date: date
    status: str
    published_at: datetime | None
    closed_at: datetime | None
    allocations: dict[str, int]


# -- batches


def published_batches(
    session: Session, actor: Actor, *, day: date | None = None, offset: int = 0, limit: int = 50
) -> Page[BatchView]:
    """Published and closed batches, newest date first (coordinators, admins)."""
    require_role(actor, "coordinator")
    query = select(Batch).where(Batch.status.in_(VISIBLE))
    if day is not None:
        query = query.where(Batch.date == day)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    batches = list(
        session.execute(
            query.order_by(Batch.date.desc(), Batch.id.desc()).offset(offset).limit(limit)
        ).scalars()
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if batches:
        rows = session.execute(
            select(Allocation.batch_id, Allocation.status, func.count())
            .where(Allocation.batch_id.in_([b.id for b in batches]))
            .group_by(Allocation.batch_id, Allocation.status)
        )
        for batch_id, status, n in rows:
            counts[batch_id][status] = int(n)
    items = [
        BatchView(b.id, b.date, b.status, b.published_at, b.closed_at, counts.get(b.id, {}))
        for b in batches
    ]
    return Page(items, int(total))


# -- routes


def batch_routes(session: Session, actor: Actor, batch_id: int) -> list[Route]:
    """The routes of published batch ``batch_id`` the actor may see (module docstring)."""
    require_role(actor, "coordinator", "volunteer")
    batch = session.get(Batch, batch_id)
    if batch is None or batch.status not in VISIBLE:
        raise NotFound("no such batch")
    if actor.role == "volunteer":
        if actor.volunteer_id is None:
            return []
        return [r for r in my_routes(session, actor, batch.date) if r.batch == batch.id]
    routed = select(Allocation.volunteer_id).where(
        Allocation.batch_id == batch.id, Allocation.volunteer_id.is_not(None)
    )
    query = select(Volunteer.id).where(Volunteer.id.in_(routed))
    if not actor.is_admin:
        query = query.where(Volunteer.org_id == actor.org_id)
    statuses = _statuses(session, batch.id)
    routes = []
    for volunteer_id in session.execute(query.order_by(Volunteer.id)).scalars():
        try:
            sheet = review.route_sheet(session, batch.id, volunteer_id, actor)
        except NotFound:  # routed only "for collection": no route in the plan
            continue
        routes.append(_coordinator_route(sheet, volunteer_id, statuses))
    return routes


def my_routes(session: Session, actor: Actor, day: date) -> list[Route]:
    """The volunteer's rounds of ``day`` in published batches, in batch order."""
    sheet = route_sheets.route_sheet(session, actor, day)
    volunteer = session.get(Volunteer, sheet.volunteer_id)
    assert volunteer is not None
    label = f"{org_codes(session, [volunteer.org_id])[volunteer.org_id]}/{volunteer.ref}"
    plan_ids = _plan_ids(session, sheet.allocation_ids)
    return [
        Route(
            batch=round_.batch_id,
            date=day,
            volunteer=label,
            volunteer_id=volunteer.id,
            distance_km=round_.distance_km,
            stops=[
                Stop(
                    number=stop.number,
                    arrival=stop.arrival,
                    region=stop.region_code,
                    place=stop.place,
                    lat=stop.lat,
                    lon=stop.lon,
                    pickups=[_volunteer_item(i, round_.batch_id, plan_ids) for i in stop.pickups],
                    deliveries=[
                        _volunteer_item(i, round_.batch_id, plan_ids) for i in stop.deliveries
                    ],
                )
                for stop in round_.stops
            ],
        )
        for round_ in sheet.rounds
    ]


def _volunteer_item(item: route_sheets.Item, batch_id: int, plan_ids: dict[int, str]) -> Item:
    return Item(
        allocation=f"{batch_id}/{plan_ids[item.allocation_id]}",
        allocation_id=item.allocation_id,
        status=item.status,
        category=item.category_id,
        quantity=item.quantity,
        number=item.number,
        lot=None,
        request=None,
        region=None,
        window=None,
        contact=item.contact,
    )


def _coordinator_route(
    sheet: review.RouteSheet, volunteer_id: int, statuses: dict[str, tuple[int, str]]
) -> Route:
    def item(entry: review.SheetItem, pickup: bool) -> Item:
        allocation_id, status = statuses[entry.allocation]
        return Item(
            allocation=f"{sheet.batch_id}/{entry.allocation}",
            allocation_id=allocation_id,
            status=status,
            category=entry.category,
            quantity=entry.quantity,
            number=None,
            lot=entry.ref if pickup else None,
            request=None if pickup else entry.ref,
            region=entry.region,
            window=(_clock(entry.window[0]), _clock(entry.window[1])) if entry.window else None,
            contact=False,
        )

    return Route(
        batch=sheet.batch_id,
        date=sheet.date,
        volunteer=sheet.volunteer_ref,
        volunteer_id=volunteer_id,
        distance_km=sheet.distance_km,
        stops=[
            Stop(
                number=stop.order,
                arrival=stop.arrival or None,
                region=stop.region or None,
                place=stop.place or None,
                lat=None,
                lon=None,
                pickups=[item(i, True) for i in stop.pickups],
                deliveries=[item(i, False) for i in stop.deliveries],
            )
            for stop in sheet.stops
        ],
    )


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _statuses(session: Session, batch_id: int) -> dict[str, tuple[int, str]]:
    """Plan id -> (allocation id, status) of a batch's allocations."""
    rows = session.execute(
        select(Allocation.plan_id, Allocation.id, Allocation.status).where(
            Allocation.batch_id == batch_id
        )
    )
    return {plan_id: (allocation_id, status) for plan_id, allocation_id, status in rows}


def _plan_ids(session: Session, allocation_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(allocation_ids))
    if not ids:
        return {}
    rows = session.execute(select(Allocation.id, Allocation.plan_id).where(Allocation.id.in_(ids)))
    return {allocation_id: plan_id for allocation_id, plan_id in rows}


# -- delivery reports


def allocation_id(session: Session, ref: str) -> int:
    """The id of allocation ``BATCH/A17``; :class:`NotFound` when there is none."""
    match = ALLOCATION_REF.fullmatch(ref.strip())
    found = None
    if match is not None:
        found = session.execute(
            select(Allocation.id).where(
                Allocation.batch_id == int(match[1]), Allocation.plan_id == match[2]
            )
        ).scalar_one_or_none()
    if found is None:
        raise NotFound("no such allocation")
    return int(found)
