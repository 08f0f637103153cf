"""One request or one donation at a time (the JSON API): an import row of its own.

A record submitted alone goes through the import pipeline exactly as one row of a
file would (``engine.imports``): the same columns (``shared/spec/platform.md``,
Imports: requests and inventory), the same cell validation
(:func:`engine.imports.validate.validate`), the same geocoding of an address-only
place, the same checks against the database (:func:`engine.imports.store.apply_prepared`:
unknown organization or site, the household duplicate rule across organizations,
the household identifier typed into a stored column) and the same archive events
(``request.add`` / ``lot.add`` with personal fields in the erasable part, and one
``import.commit`` naming the channel, ``api``). No business rule lives here beyond
what a single record adds to a file row:

* **who**: staff and coordinators register records of their own organization (the
  ``org`` field may be left out; naming another organization is
  :class:`~engine.errors.Forbidden`); an admin names the organization;
* **create, not update**: a ``ref`` already stored in the organization is a
  :class:`~engine.errors.ConflictError`, unless the submission is identical to the
  stored record (a client retrying after a lost answer), which is answered with the
  stored record and writes nothing;
* **bad values** raise :class:`Rejected`, carrying the import issues (column and
  reason, the household identifier never echoed).

The reading side (:func:`list_requests`, :func:`get_request`, :func:`list_lots`,
:func:`get_lot`) scopes by organization: staff and coordinators see their own, an
admin every organization's; another organization's record is
:class:`~engine.errors.NotFound`. A request's name, phone and address are shown to
its own organization only (:func:`shows_personal`).

Services take a session and never commit; the caller commits once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import Actor, require_org, require_role
from engine.errors import ConflictError, Forbidden, InputError, NotFound
from engine.geocode import Geocoder
from engine.imports.issues import ImportIssue
from engine.imports.prepare import Prepared
from engine.imports.schemas import HOUSEHOLD, SCHEMAS, Kind
from engine.imports.single import ROW, lock_for_write, prepare_row, store_row
from engine.imports.validate import DUPLICATE_WINDOW_DAYS
from engine.models import Organization, Request, SupplyLot

CHANNEL = "api"  # the archive's import.commit "file" of records submitted one by one
T = TypeVar("T")


class Rejected(InputError):
    """The record is not valid: ``issues`` say which field and why (as an import's)."""

    def __init__(self, issues: Sequence[ImportIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{i.column}: {i.reason}" for i in self.issues))

    def by_field(self) -> dict[str, list[str]]:
        """``{field: [reasons]}`` (the API's field-level error body)."""
        out: dict[str, list[str]] = {}
        for issue in self.issues:
            out.setdefault(issue.column, []).append(issue.reason)
        return out


@dataclass(frozen=True, slots=True)
class Submitted:
    """What a submission did: the record's id, and whether it was created now
    (``False``: an identical record was already stored, nothing written)."""

    id: int
    created: bool


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing: its items and how many there are in all."""

    items: list[T]
    total: int


# -- submitting


def submit_request(
    session: Session,
    actor: Actor,
    values: Mapping[str, Any],
    *,
    household_key: Callable[[], bytes] | bytes,
    geocoder: Geocoder | None = None,
    duplicate_window_days: int = DUPLICATE_WINDOW_DAYS,
    today: date | None = None,
) -> Submitted:
    """Register one request: ``values`` holds the requests file's columns (``org``,
    ``ref``, ``household``, ``category``, ``quantity``, ``priority``, ``region``,
    ``lat``+``lon`` or ``address``, optional ``filed``, ``window_start``,
    ``window_end``, ``phone``, ``name``) as text or typed values.

    ``household_key`` (bytes, or a function giving them) pseudonymises the household
    identifier, which is never stored. See the module docstring for the rules.
    """
    return _submit(
        session,
        actor,
        Kind.REQUESTS,
        values,
        household_key=household_key,
        geocoder=geocoder,
        duplicate_window_days=duplicate_window_days,
        today=today,
    )


def submit_lot(
    session: Session,
    actor: Actor,
    values: Mapping[str, Any],
    *,
    today: date | None = None,
) -> Submitted:
    """Register one donation (a supply lot): ``values`` holds the inventory file's
    columns (``org``, ``ref``, ``category``, ``quantity``, ``site`` or
    ``lat``+``lon``+``region``, optional ``expires``, ``regions``, ``donor``,
    ``received``). See the module docstring for the rules."""
    return _submit(session, actor, Kind.INVENTORY, values, household_key=b"", today=today)


def _submit(
    session: Session,
    actor: Actor,
    kind: Kind,
    values: Mapping[str, Any],
    *,
    household_key: Callable[[], bytes] | bytes,
    geocoder: Geocoder | None = None,
    duplicate_window_days: int = DUPLICATE_WINDOW_DAYS,
    today: date | None = None,
) -> Submitted:
    require_role(actor, "staff", "coordinator")
    today = today or date.today()
    cells = {name: cell_text(values.get(name)) for name in SCHEMAS[kind].columns}
    org = _organization_code(session, actor, cells["org"])
    cells["org"] = org
    prepared = _prepare(session, kind, cells, org, geocoder, duplicate_window_days, today)
    if prepared.issues:
        raise Rejected(prepared.issues)
    # Two concurrent submissions of one household (or one ref) are serialised: the
    # second waits for the first to commit, then sees it (as an entry form's).
    lock_for_write(session)
    existing = _stored_id(session, kind, org, cells["ref"])
    report = store_row(
        session,
        prepared,
        actor=actor.label,
        household_key=household_key,
        org=org,
        commit=existing is None,
        duplicate_window_days=duplicate_window_days,
        today=today,
        import_event=True,
        # Another submission stored the same key (or household) between the checks and
        # the write: this one is refused whole; the client may retry.
        conflict=f"{org}/{cells['ref']}: stored by another submission in the meantime; retry",
    )
    if existing is not None:
        if report.ok and report.counts.unchanged == 1:
            return Submitted(existing, created=False)  # a retry of the same record
        raise ConflictError(
            f"{org}/{cells['ref']} already exists (id {existing}) with other values; "
            "a submission creates a record, it does not change one"
        )
    if not report.ok:
        raise Rejected(report.errors)
    created = _stored_id(session, kind, org, cells["ref"])
    assert created is not None  # just written in this transaction
    return Submitted(created, created=True)


def cell_text(value: Any) -> str | None:
    """A value as the cell text an import file would hold (``None``: empty cell).

    Text is stripped, numbers written as Python writes them (``36.8``, ``1e-05``),
    dates ISO, a list of codes ``;``-separated (the ``regions`` column).
    """
    if value is None:
        return None
    if isinstance(value, bool):  # before int: True is an int
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(str(item).strip() for item in value) or None
    text = str(value).strip()
    return text or None


def _organization_code(session: Session, actor: Actor, given: str | None) -> str:
    """The organization the record belongs to: the actor's own (``given`` must be
    empty or name it), or for an admin the one ``given``."""
    if actor.is_admin:
        if given is None:
            raise Rejected(
                [ImportIssue(ROW, "org", None, "missing value (an admin names the organization)")]
            )
        return given
    own = session.get(Organization, actor.org_id) if actor.org_id is not None else None
    if own is None:
        raise Forbidden("this account belongs to no organization")
    if given is not None and given != own.code:
        raise Forbidden(
            f"a {actor.role} account registers records of its own organization ({own.code}) only"
        )
    return own.code


def _prepare(
    session: Session,
    kind: Kind,
    cells: Mapping[str, str | None],
    org: str,
    geocoder: Geocoder | None,
    duplicate_window_days: int,
    today: date,
) -> Prepared:
    """:func:`engine.imports.prepare.prepare_table` of a one-row table."""
    # Named by a digest of what was submitted, the household identifier left out (a
    # digest of one short ID could be reversed by trying every ID).
    shown = {k: v for k, v in cells.items() if k != HOUSEHOLD}
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True).encode("utf-8")).hexdigest()
    try:
        return prepare_row(
            session,
            kind,
            SCHEMAS[kind].columns,
            cells,
            name=CHANNEL,
            sha256=digest,
            org=org,
            geocoder=geocoder,
            duplicate_window_days=duplicate_window_days,
            today=today,
        )
    except ValueError as exc:  # an org code the rules refuse (empty, too long)
        raise Rejected([ImportIssue(ROW, "org", None, str(exc).removeprefix("--org "))]) from None


def _stored_id(session: Session, kind: Kind, org: str, ref: str | None) -> int | None:
    model = Request if kind is Kind.REQUESTS else SupplyLot
    return session.execute(
        select(model.id)
        .join(Organization, Organization.id == model.org_id)
        .where(Organization.code == org, model.ref == ref)
    ).scalar_one_or_none()


# -- reading


def list_requests(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    category: str | None = None,
    org: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[Request]:
    """Requests the actor may see (own organization; admin: all, or ``org``), newest
    first, filtered by ``status`` and ``category``."""
    require_role(actor, "staff", "coordinator")
    query = _scoped(session, actor, Request, org)
    if status is not None:
        query = query.where(Request.status == status)
    if category is not None:
        query = query.where(Request.category_id == category)
    return _page(session, query, Request, offset, limit)


def get_request(session: Session, actor: Actor, request_id: int) -> Request:
    """The request ``request_id`` if the actor may see it, else :class:`NotFound`."""
    require_role(actor, "staff", "coordinator")
    row = session.get(Request, request_id)
    if row is None:
        raise NotFound("no such request")
    require_org(actor, row.org_id, "request")
    return row


def list_lots(
    session: Session,
    actor: Actor,
    *,
    category: str | None = None,
    available: bool | None = None,
    org: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[SupplyLot]:
    """Lots the actor may see (own organization; admin: all, or ``org``), newest first;
    ``available``: only lots with (true) or without (false) stock left."""
    require_role(actor, "staff", "coordinator")
    query = _scoped(session, actor, SupplyLot, org)
    if category is not None:
        query = query.where(SupplyLot.category_id == category)
    if available is not None:
        left = (
            SupplyLot.quantity_received - SupplyLot.quantity_reserved - SupplyLot.quantity_delivered
        )
        query = query.where(left > 0 if available else left <= 0)
    return _page(session, query, SupplyLot, offset, limit)


def get_lot(session: Session, actor: Actor, lot_id: int) -> SupplyLot:
    """The lot ``lot_id`` if the actor may see it, else :class:`NotFound`."""
    require_role(actor, "staff", "coordinator")
    row = session.get(SupplyLot, lot_id)
    if row is None:
        raise NotFound("no such lot")
    require_org(actor, row.org_id, "lot")
    return row


def shows_personal(actor: Actor, org_id: int) -> bool:
    """Whether a request's name, phone and address are shown to ``actor``: to its own
    organization's accounts only. An admin reads every organization's requests, but
    not their families' contacts (the admin pages and the archive never show them)."""
    return actor.org_id is not None and actor.org_id == org_id


def org_codes(session: Session, org_ids: Sequence[int]) -> dict[int, str]:
    """Organization id -> code for ``org_ids`` (one query)."""
    if not org_ids:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.code).where(Organization.id.in_(set(org_ids)))
    )
    return {row.id: row.code for row in rows}


def _scoped(session: Session, actor: Actor, model: Any, org: str | None) -> Any:
    query = select(model)
    if not actor.is_admin:
        # A staff or coordinator account without an organization sees nothing.
        query = query.where(model.org_id == actor.org_id)
    if org is not None:
        query = query.join(Organization, Organization.id == model.org_id).where(
            Organization.code == org
        )
    return query


def _page(session: Session, query: Any, model: Any, offset: int, limit: int) -> Page[Any]:
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    items = list(
        session.execute(query.order_by(model.id.desc()).offset(offset).limit(limit)).scalars()
    )
    return Page(items, int(total))
