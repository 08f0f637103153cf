"""When a volunteer may see a household's contact, and the archived act of seeing it.

A household's phone and address are personal data; the volunteer who carries its
delivery needs them to find the door or call ahead, and nobody else on the road
does. The rule (:func:`contact_window`):

- only the volunteer holding the allocation's route (its ``volunteer_id`` is the
  acting account's volunteer) — anyone else finds *no such allocation*;
- only for an allocation of a published (or since closed) batch, from the batch's
  publication until one day after the delivery: 24 hours after the allocation was
  reported delivered, or, while it is not, until the end of the day after the
  batch's date (the server's local time, as ``date.today()`` counts days);
- never for a cancelled allocation (nobody carries it).

The same window bounds the household's location on the volunteer's route (its
coordinates are the address in another form, see ``engine.route_sheets``): inside
it the route shows where to go; outside it, only the order of the stops.

Seeing the contact is an act, not a side effect of opening a page: the web asks for
it with a POST, and :func:`reveal_contact` records one archive event per reveal
(``household.reveal`` on the request) naming who and which fields — never the
values, which stay in the request row and go with the retention purge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.db.base import as_utc, utcnow
from engine.errors import ConflictError, NotFound
from engine.models.batches import Allocation, Batch
from engine.models.deliveries import Delivery
from engine.models.requests import Request

# How long after the delivery (or after the planned day) the contact stays visible.
AFTER_DELIVERY = timedelta(days=1)
VISIBLE_BATCHES = ("published", "closed")
FIELDS = ("phone", "address")


def now() -> datetime:
    """The current time (aware, UTC); tests replace it to stand inside or outside a window."""
    return utcnow()


@dataclass(frozen=True)
class Window:
    """The interval in which a contact may be shown: ``opens <= t < closes``."""

    opens: datetime
    closes: datetime

    def contains(self, moment: datetime) -> bool:
        """True when ``moment`` lies inside the window."""
        return self.opens <= as_utc(moment) < self.closes


@dataclass(frozen=True)
class Contact:
    """What a reveal shows: the household's phone and address (None when erased or unknown)."""

    allocation_id: int
    phone: str | None
    address: str | None
    closes: datetime


def end_of_next_day(day: date) -> datetime:
    """Midnight (server local time) ending the day after ``day``, as UTC."""
    local = datetime.combine(day + timedelta(days=2), time(0)).astimezone()
    return as_utc(local)


def contact_window(
    batch_date: date,
    batch_status: str,
    published_at: datetime | None,
    allocation_status: str,
    delivered_at: datetime | None,
) -> Window | None:
    """The window of an allocation (see the module docstring), or None when it has none."""
    if batch_status not in VISIBLE_BATCHES or published_at is None:
        return None
    if allocation_status == "cancelled":
        return None
    opens = as_utc(published_at)
    if allocation_status == "delivered" and delivered_at is not None:
        closes = as_utc(delivered_at) + AFTER_DELIVERY
    else:
        closes = end_of_next_day(batch_date)
    return Window(opens, closes)


def delivered_at(session: Session, allocation_ids: list[int]) -> dict[int, datetime]:
    """When each of ``allocation_ids`` was reported delivered (absent: not delivered)."""
    if not allocation_ids:
        return {}
    rows = session.execute(
        select(Delivery.allocation_id, Delivery.at).where(
            Delivery.allocation_id.in_(allocation_ids), Delivery.kind == "delivered"
        )
    )
    return {allocation_id: as_utc(at) for allocation_id, at in rows}


def _own_allocation(session: Session, actor: Actor, allocation_id: int) -> Allocation:
    """The allocation ``allocation_id`` if it is on ``actor``'s route, else NotFound."""
    require_role(actor, "volunteer")
    allocation = session.get(Allocation, allocation_id)
    if (
        allocation is None
        or actor.volunteer_id is None
        or allocation.volunteer_id != actor.volunteer_id
    ):
        raise NotFound("no such allocation")
    return allocation


def window_of(session: Session, allocation: Allocation) -> Window | None:
    """The contact window of ``allocation`` (reads its batch and delivery)."""
    batch = session.get(Batch, allocation.batch_id)
    assert batch is not None
    return contact_window(
        batch.date,
        batch.status,
        batch.published_at,
        allocation.status,
        delivered_at(session, [allocation.id]).get(allocation.id),
    )


def reveal_contact(
    session: Session, actor: Actor, allocation_id: int, *, at: datetime | None = None
) -> Contact:
    """The phone and address of the household of ``allocation_id``, for its volunteer.

    Raises :class:`NotFound` unless ``actor`` is the volunteer holding the
    allocation's route (an admin holds no route: not found either), and
    :class:`ConflictError` outside the window. Records ``household.reveal``
    (which fields, not their values). Does not commit.
    """
    allocation = _own_allocation(session, actor, allocation_id)
    moment = as_utc(at) if at is not None else now()
    window = window_of(session, allocation)
    if window is None or not window.contains(moment):
        raise ConflictError(
            "contact details are shown from the batch's publication until one day "
            "after the delivery; this delivery is outside that time"
        )
    phone, address, erased = session.execute(
        select(Request.phone, Request.address, Request.personal_erased_at).where(
            Request.id == allocation.request_id
        )
    ).one()
    audit.record(
        session,
        actor.label,
        "household.reveal",
        "request",
        allocation.request_id,
        after={
            "allocation": f"{allocation.batch_id}/{allocation.plan_id}",
            "fields": [f for f, v in zip(FIELDS, (phone, address), strict=True) if v],
            "erased": erased is not None,
        },
    )
    return Contact(allocation.id, phone, address, window.closes)
