"""An organization's records as the coordinator pages list them: open requests,
supply lots, volunteers (filtered, paginated), and the choices of the entry forms.

Scope: staff and coordinators see their own organization only; an admin sees
every organization, or one it names. Asking for an organization outside one's
scope is *not found* (:func:`scope_of`). Household identifiers are never
listed (only pseudonyms are stored); names and phones are shown to the
organization's own accounts, who entered them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from engine.access import Actor, require_role
from engine.errors import InputError, NotFound
from engine.models import (
    Category,
    Organization,
    Region,
    Request,
    Site,
    SupplyLot,
    User,
    Volunteer,
)
from engine.models.requests import REQUEST_STATUSES

T = TypeVar("T")
READ_ROLES = ("coordinator", "staff")
VOLUNTEER_ROLES = ("coordinator",)
PER_PAGE = 50
MAX_PER_PAGE = 200
# What a lot's stock may be filtered by.
LOT_STATES = ("available", "expired", "used_up", "all")
VOLUNTEER_STATES = ("active", "inactive", "all")


def scope_of(actor: Actor, org_id: int | None) -> int | None:
    """The organization whose records ``actor`` asks for: ``org_id`` for an admin
    (``None``: every organization), else the actor's own (``NotFound`` for another)."""
    if actor.is_admin:
        return org_id
    if actor.org_id is None or (org_id is not None and org_id != actor.org_id):
        raise NotFound("no such organization")
    return actor.org_id


@dataclass(frozen=True)
class OrgChoice:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class SiteChoice:
    id: int
    org_id: int
    org_code: str
    code: str
    name: str
    region: str


@dataclass(frozen=True)
class Catalogue:
    """What the entry forms offer: organizations and sites in scope, categories, regions."""

    organizations: list[OrgChoice]
    sites: list[SiteChoice]
    categories: list[str]  # category ids (the interface shows their localised names)
    regions: list[str]  # region codes


def catalogue(session: Session, actor: Actor) -> Catalogue:
    """The organizations and sites ``actor`` may enter records for, and the reference lists."""
    require_role(actor, *READ_ROLES)
    orgs = select(Organization.id, Organization.code, Organization.name).order_by(Organization.code)
    sites = (
        select(Site.id, Site.org_id, Organization.code, Site.code, Site.name, Site.region_code)
        .join(Organization, Organization.id == Site.org_id)
        .order_by(Organization.code, Site.code)
    )
    if not actor.is_admin:
        own = actor.org_id if actor.org_id is not None else -1
        orgs = orgs.where(Organization.id == own)
        sites = sites.where(Site.org_id == own)
    return Catalogue(
        organizations=[OrgChoice(*row) for row in session.execute(orgs)],
        sites=[SiteChoice(*row) for row in session.execute(sites)],
        categories=list(session.execute(select(Category.id).order_by(Category.id)).scalars()),
        regions=list(session.execute(select(Region.code).order_by(Region.code)).scalars()),
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: ``items``, the number of matches, where we are."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _paged(session: Session, query: Select[Any], page: int, per_page: int) -> tuple[list[Any], int]:
    if page < 1:
        raise InputError("page: must be 1 or more")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InputError(f"per_page: must be from 1 to {MAX_PER_PAGE}")
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), int(total)


@dataclass(frozen=True)
class RequestLine:
    id: int
    org: str
    ref: str
    category: str
    quantity: int
    priority: int
    region: str
    filed: date
    status: str
    window_start: time | None
    window_end: time | None
    name: str | None
    phone: str | None
    address: str | None


def list_requests(
    session: Session,
    actor: Actor,
    *,
    org_id: int | None = None,
    status: str = "open",
    region: str | None = None,
    category: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[RequestLine]:
    """Requests in scope, most urgent first (priority, then oldest filed).

    ``status`` is a request status or ``all``; ``region``/``category`` narrow further.
    """
    require_role(actor, *READ_ROLES)
    scope = scope_of(actor, org_id)
    if status != "all" and status not in REQUEST_STATUSES:
        raise InputError(f"status: expected one of {', '.join(REQUEST_STATUSES)} or all")
    r = Request
    query = (
        select(
            r.id,
            Organization.code,
            r.ref,
            r.category_id,
            r.quantity,
            r.priority,
            r.region_code,
            r.filed,
            r.status,
            r.window_start,
            r.window_end,
            r.name,
            r.phone,
            r.address,
        )
        .join(Organization, Organization.id == r.org_id)
        .order_by(r.priority.desc(), r.filed, Organization.code, r.ref)
    )
    if scope is not None:
        query = query.where(r.org_id == scope)
    if status != "all":
        query = query.where(r.status == status)
    if region:
        query = query.where(r.region_code == region)
    if category:
        query = query.where(r.category_id == category)
    rows, total = _paged(session, query, page, per_page)
    return Page([RequestLine(*row) for row in rows], total, page, per_page)


@dataclass(frozen=True)
class LotLine:
    id: int
    org: str
    ref: str
    category: str
    received: int
    reserved: int
    delivered: int
    available: int
    site: str | None
    region: str | None
    expires: date | None
    donor: str | None
    received_on: date | None


def list_lots(
    session: Session,
    actor: Actor,
    *,
    org_id: int | None = None,
    state: str = "available",
    region: str | None = None,
    category: str | None = None,
    day: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[LotLine]:
    """Supply lots in scope, soonest expiry first.

    ``state``: ``available`` (stock left, not expired on ``day``), ``expired``
    (stock left past its date), ``used_up`` (nothing left) or ``all``. A lot's
    region is its site's when it lies at a site.
    """
    require_role(actor, *READ_ROLES)
    scope = scope_of(actor, org_id)
    if state not in LOT_STATES:
        raise InputError(f"state: expected one of {', '.join(LOT_STATES)}")
    day = day or date.today()
    lot = SupplyLot
    stock = lot.quantity_received - lot.quantity_reserved - lot.quantity_delivered
    place = func.coalesce(Site.region_code, lot.region_code)
    query = (
        select(
            lot.id,
            Organization.code,
            lot.ref,
            lot.category_id,
            lot.quantity_received,
            lot.quantity_reserved,
            lot.quantity_delivered,
            stock,
            Site.code,
            place,
            lot.expires,
            lot.donor,
            lot.received_on,
        )
        .join(Organization, Organization.id == lot.org_id)
        .outerjoin(Site, Site.id == lot.site_id)
        .order_by(lot.expires.is_(None), lot.expires, Organization.code, lot.ref)
    )
    if scope is not None:
        query = query.where(lot.org_id == scope)
    fresh = or_(lot.expires.is_(None), lot.expires >= day)
    if state == "available":
        query = query.where(and_(stock > 0, fresh))
    elif state == "expired":
        query = query.where(and_(stock > 0, lot.expires < day))
    elif state == "used_up":
        query = query.where(stock <= 0)
    if region:
        query = query.where(place == region)
    if category:
        query = query.where(lot.category_id == category)
    rows, total = _paged(session, query, page, per_page)
    return Page([LotLine(*row) for row in rows], total, page, per_page)


@dataclass(frozen=True)
class VolunteerLine:
    id: int
    org: str
    ref: str
    name: str | None
    phone: str | None
    vehicle: str | None
    capacity_kg: float
    shift_start: time
    shift_end: time
    days: list[str] | None
    active: bool
    account: bool  # has an active volunteer account (may get a sign-in link)


def list_volunteers(
    session: Session,
    actor: Actor,
    *,
    org_id: int | None = None,
    state: str = "active",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[VolunteerLine]:
    """Volunteers in scope, by ref; ``state``: ``active``, ``inactive`` or ``all``.
    Coordinators and admins (the volunteers' personal data)."""
    require_role(actor, *VOLUNTEER_ROLES)
    scope = scope_of(actor, org_id)
    if state not in VOLUNTEER_STATES:
        raise InputError(f"state: expected one of {', '.join(VOLUNTEER_STATES)}")
    v = Volunteer
    account = (
        select(User.id)
        .where(User.volunteer_id == v.id, User.role == "volunteer", User.active.is_(True))
        .exists()
    )
    query = (
        select(
            v.id,
            Organization.code,
            v.ref,
            v.name,
            v.phone,
            v.vehicle,
            v.capacity_kg,
            v.shift_start,
            v.shift_end,
            v.days,
            v.active,
            account,
        )
        .join(Organization, Organization.id == v.org_id)
        .order_by(Organization.code, v.ref)
    )
    if scope is not None:
        query = query.where(v.org_id == scope)
    if state != "all":
        query = query.where(v.active.is_(state == "active"))
    rows, total = _paged(session, query, page, per_page)
    return Page([VolunteerLine(*row) for row in rows], total, page, per_page)
