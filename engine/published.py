"""Published batches, their routes and delivery reports, as an actor may see them.

What the JSON API (and any client of a volunteer's day) reads and reports once a
batch is published:

* :func:`published_batches`: the published (and closed) batches, for coordinators
  and admins (a batch is national);
* :func:`batch_routes`: the routes of a published batch, in visit order, with each
  allocation's current status: a coordinator sees the routes of its organization's
  volunteers, an admin every route, a volunteer only its own;
* :func:`my_routes`: a volunteer's routes of a date (a date may have an afternoon
  round: one route per published batch);
* :func:`report`: a delivery report by the actor (:func:`engine.deliveries.report_delivery`
  does the work), scoped first: a volunteer reports on its own route's allocations
  of a published batch, a coordinator or admin on those
  :func:`engine.deliveries.check_reporter` allows; any other allocation is
  :class:`~engine.errors.NotFound`, so its existence is not revealed. A report
  with an ``idempotency_key`` already used for the same allocation and kind is the
  same report sent again (a phone that lost the answer): it is acknowledged and
  changes nothing; the same key on another report is a conflict.

Visits come from the stored plan (the order and times the solver chose), statuses
from the allocation rows (what happened since). The family's contact (name, phone,
address) goes with each delivery: whoever may see the route carries the aid there.
Services take a session and never commit.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.access import Actor, require_role
from engine.deliveries import KINDS, check_reporter, report_delivery
from engine.errors import ConflictError, InputError, NotFound
from engine.intake import Page, org_codes
from engine.models import Allocation, Batch, Delivery, Request, Site, SupplyLot, Volunteer

VISIBLE = ("published", "closed")  # batch statuses whose routes are shown
REPORTABLE = ("published",)  # deliveries are reported on published batches only
ALLOCATION_REF = re.compile(r"([0-9]{1,9})/([A-Za-z0-9._-]{1,32})")
# API kind -> the word report_delivery takes.
_WORDS = {status: word for word, status in KINDS.items()}


@dataclass(frozen=True, slots=True)
class Contact:
    """Who to deliver to (personal data: ``None`` once erased by retention)."""

    name: str | None
    phone: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Item:
    """One allocation at a stop: picked up there, or delivered there."""

    ref: str  # BATCH/A17
    id: int
    status: str
    quantity: int
    category: str
    lot: str  # ORG/REF
    request: str  # ORG/REF
    site: str | None  # the pickup site's name, when the lot is at a site
    contact: Contact | None  # the family's, on a delivery


@dataclass(frozen=True, slots=True)
class Stop:
    """One visit of a route, in order."""

    position: int
    lat: float
    lon: float
    arrival: str | None  # HH:MM, as planned
    pickups: list[Item] = field(default_factory=list)
    deliveries: list[Item] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Route:
    """A volunteer's route in one published batch."""

    batch: int
    date: date
    volunteer: str  # ORG/REF
    volunteer_id: int
    volunteer_name: str | None
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


@dataclass(frozen=True, slots=True)
class Reported:
    """A delivery report as stored (``replayed``: an earlier report with the same
    idempotency key, acknowledged again; nothing changed)."""

    delivery_id: int
    allocation: str
    allocation_id: int
    kind: str
    reason: str | None
    status: str  # the allocation's status now
    request_status: str
    lot: str
    request: str
    quantity: int
    at: datetime
    replayed: bool


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
    """The routes of published batch ``batch_id`` the actor may see (module docstring);
    :class:`NotFound` for an unknown or unpublished batch."""
    require_role(actor, "coordinator", "volunteer")
    batch = session.get(Batch, batch_id)
    if batch is None or batch.status not in VISIBLE:
        raise NotFound("no such batch")
    return _routes(session, batch, _visible_volunteers(session, actor, batch))


def my_routes(session: Session, actor: Actor, day: date) -> list[Route]:
    """The volunteer's routes of ``day`` in published batches, in batch order."""
    require_role(actor, "volunteer")
    if actor.volunteer_id is None:
        return []
    batches = session.execute(
        select(Batch)
        .where(Batch.date == day, Batch.status.in_(VISIBLE))
        .where(
            Batch.id.in_(
                select(Allocation.batch_id).where(Allocation.volunteer_id == actor.volunteer_id)
            )
        )
        .order_by(Batch.id)
    ).scalars()
    mine = session.get(Volunteer, actor.volunteer_id)
    assert mine is not None  # a foreign key
    return [route for batch in batches for route in _routes(session, batch, [mine])]


def _visible_volunteers(session: Session, actor: Actor, batch: Batch) -> list[Volunteer]:
    on_routes = select(Allocation.volunteer_id).where(
        Allocation.batch_id == batch.id, Allocation.volunteer_id.is_not(None)
    )
    query = select(Volunteer).where(Volunteer.id.in_(on_routes))
    if actor.is_admin:
        pass
    elif actor.role == "coordinator":
        query = query.where(Volunteer.org_id == actor.org_id)
    else:
        query = query.where(Volunteer.id == actor.volunteer_id)
    return list(session.execute(query.order_by(Volunteer.id)).scalars())


def _routes(session: Session, batch: Batch, volunteers: Sequence[Volunteer]) -> list[Route]:
    if not volunteers:
        return []
    codes = org_codes(session, [v.org_id for v in volunteers])
    by_label = {f"{codes[v.org_id]}/{v.ref}": v for v in volunteers}
    allocations = {
        a.plan_id: a
        for a in session.execute(
            select(Allocation).where(
                Allocation.batch_id == batch.id,
                Allocation.volunteer_id.in_([v.id for v in volunteers]),
            )
        ).scalars()
    }
    items = _items(session, batch.id, allocations.values())
    plan = json.loads(batch.plan)
    routes = []
    for planned in plan.get("routes", []):
        volunteer = by_label.get(planned.get("volunteer"))
        if volunteer is None:
            continue
        stops = []
        for position, visit in enumerate(planned.get("visits", [])):
            stops.append(
                Stop(
                    position,
                    float(visit["lat"]),
                    float(visit["lon"]),
                    visit.get("arrival"),
                    [
                        dataclasses.replace(items[a], contact=None)
                        for a in visit.get("pickups", [])
                        if a in items
                    ],
                    [items[a] for a in visit.get("deliveries", []) if a in items],
                )
            )
        distance = planned.get("distance_km")
        routes.append(
            Route(
                batch.id,
                batch.date,
                f"{codes[volunteer.org_id]}/{volunteer.ref}",
                volunteer.id,
                volunteer.name,
                float(distance) if distance is not None else None,
                stops,
            )
        )
    return routes


def _items(session: Session, batch_id: int, allocations: Iterable[Allocation]) -> dict[str, Item]:
    """Route items by plan id, with the family's contact (left off on the pickup side)."""
    rows = list(allocations)
    lots = {
        lot.id: lot
        for lot in session.execute(
            select(SupplyLot).where(SupplyLot.id.in_({a.lot_id for a in rows}))
        ).scalars()
    }
    requests = {
        r.id: r
        for r in session.execute(
            select(Request).where(Request.id.in_({a.request_id for a in rows}))
        ).scalars()
    }
    sites = {
        s.id: s.name
        for s in session.execute(
            select(Site).where(Site.id.in_({lot.site_id for lot in lots.values() if lot.site_id}))
        ).scalars()
    }
    codes = org_codes(
        session, [*(lot.org_id for lot in lots.values()), *(r.org_id for r in requests.values())]
    )
    out = {}
    for a in rows:
        lot, request = lots[a.lot_id], requests[a.request_id]
        out[a.plan_id] = Item(
            ref=f"{batch_id}/{a.plan_id}",
            id=a.id,
            status=a.status,
            quantity=a.quantity,
            category=lot.category_id,
            lot=f"{codes[lot.org_id]}/{lot.ref}",
            request=f"{codes[request.org_id]}/{request.ref}",
            site=sites.get(lot.site_id) if lot.site_id is not None else None,
            contact=Contact(request.name, request.phone, request.address),
        )
    return out


# -- delivery reports


def find_allocation(
    session: Session, *, allocation_id: int | None = None, ref: str | None = None
) -> tuple[Batch, Allocation]:
    """The allocation by id or by ``BATCH/A17``, with its batch; :class:`NotFound`."""
    allocation: Allocation | None = None
    if allocation_id is not None:
        allocation = session.get(Allocation, allocation_id)
    elif ref is not None:
        match = ALLOCATION_REF.fullmatch(ref.strip())
        if match is not None:
            allocation = session.execute(
                select(Allocation).where(
                    Allocation.batch_id == int(match[1]), Allocation.plan_id == match[2]
                )
            ).scalar_one_or_none()
    if allocation is None:
        raise NotFound("no such allocation")
    batch = session.get(Batch, allocation.batch_id)
    assert batch is not None  # a foreign key
    return batch, allocation


def _check_scope(session: Session, actor: Actor, batch: Batch, allocation: Allocation) -> None:
    """:class:`NotFound` unless the actor may report on ``allocation``."""
    require_role(actor, "coordinator", "volunteer")
    if actor.role == "volunteer":
        mine = actor.volunteer_id is not None and allocation.volunteer_id == actor.volunteer_id
        if not mine or batch.status not in VISIBLE:
            raise NotFound("no such allocation")
        return
    try:
        check_reporter(session, actor.label, allocation)
    except InputError:
        raise NotFound("no such allocation") from None


def report(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    allocation_id: int | None = None,
    allocation_ref: str | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> Reported:
    """Report allocation (by id or ``BATCH/A17``) ``kind`` (``picked_up``,
    ``delivered``, ``failed``) as the actor; see the module docstring.

    Raises :class:`NotFound` (not the actor's to report), :class:`InputError` (a bad
    kind, a failure without reason) or :class:`ConflictError` (an illegal move, the
    state changed under the report, a key already used for another report).
    """
    word = _WORDS.get(kind)
    if word is None:
        raise InputError(f"kind: expected picked_up, delivered or failed, got {kind!r}")
    batch, allocation = find_allocation(session, allocation_id=allocation_id, ref=allocation_ref)
    _check_scope(session, actor, batch, allocation)
    key = idempotency_key.strip() if idempotency_key else None
    if key:
        earlier = _replay(session, key, allocation, kind)
        if earlier is not None:
            return earlier
    ref = f"{batch.id}/{allocation.plan_id}"
    try:
        report_delivery(session, ref, word, actor.label, reason=reason, by=actor.label)
    except ConflictError:
        # The same report sent twice at once: the other one won and is now stored.
        if key and (earlier := _replay(session, key, allocation, kind)) is not None:
            return earlier
        raise
    delivery = session.execute(
        select(Delivery)
        .where(Delivery.allocation_id == allocation.id, Delivery.kind == kind)
        .order_by(Delivery.id.desc())
        .limit(1)
    ).scalar_one()
    if key:
        delivery.idempotency_key = key
        try:
            session.flush()
        except IntegrityError:
            raise ConflictError(
                "idempotency_key: stored with another report in the meantime"
            ) from None
    return _reported(session, delivery, batch, allocation, replayed=False)


def _replay(session: Session, key: str, allocation: Allocation, kind: str) -> Reported | None:
    """The stored report of ``key`` when it is this one; a conflict when it is another."""
    earlier = session.execute(
        select(Delivery).where(Delivery.idempotency_key == key)
    ).scalar_one_or_none()
    if earlier is None:
        return None
    if earlier.allocation_id != allocation.id or earlier.kind != kind:
        raise ConflictError("idempotency_key: already used for another report")
    batch = session.get(Batch, allocation.batch_id)
    assert batch is not None
    return _reported(session, earlier, batch, allocation, replayed=True)


def _reported(
    session: Session, delivery: Delivery, batch: Batch, allocation: Allocation, *, replayed: bool
) -> Reported:
    status = session.execute(
        select(Allocation.status).where(Allocation.id == allocation.id)
    ).scalar_one()
    lot = session.get(SupplyLot, allocation.lot_id)
    request = session.get(Request, allocation.request_id)
    assert lot is not None and request is not None
    session.refresh(request, ["status"])
    codes = org_codes(session, [lot.org_id, request.org_id])
    return Reported(
        delivery_id=delivery.id,
        allocation=f"{batch.id}/{allocation.plan_id}",
        allocation_id=allocation.id,
        kind=delivery.kind,
        reason=delivery.reason,
        status=status,
        request_status=request.status,
        lot=f"{codes[lot.org_id]}/{lot.ref}",
        request=f"{codes[request.org_id]}/{request.ref}",
        quantity=allocation.quantity,
        at=delivery.at,
        replayed=replayed,
    )
