"""Entering one record by hand: a donation (a supply lot), a request, a volunteer.

The web's entry forms call these services. A record typed into a form meets
exactly the rules of a row of an import file: the form's values are the cells
of a one-row table (the import columns, as text) that goes through the import
pipeline — :func:`engine.imports.prepare.prepare_table` (every cell's rule,
geocoding of an address) and :func:`engine.imports.store.apply_prepared` (the
organization's sites, the household rule across organizations, the household
identifier typed into another field, the write and its archive event). So an
entry writes the same row and the same ``lot.add`` / ``request.add`` /
``volunteer.add`` event as an import row would (the personal fields in the
event's erasable part), without the ``import.commit`` event of a file.

Nothing is written unless every check passes: problems are gathered first and
raised together as :class:`EntryRejected` (each a :class:`Problem` naming the
field, a stable code for the interface's translated message, and the
pipeline's English reason). The household identifier is pseudonymised by the
pipeline (:func:`engine.households.pseudonym`) and never appears in a problem,
an exception message or the archive.

Scope: staff and coordinators enter for their own organization only, an admin
for any; volunteers are entered by coordinators and admins. An organization
outside the actor's scope is *not found*.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import accounts
from engine.access import Actor, require_org, require_role
from engine.errors import ConflictError, InputError, NotFound
from engine.geocode import Geocoder
from engine.imports.issues import ImportIssue
from engine.imports.prepare import Prepared
from engine.imports.records import VolunteerRecord
from engine.imports.schemas import HOUSEHOLD, Kind, schema
from engine.imports.single import ROW, lock_for_write, prepare_row, store_row
from engine.imports.validate import DUPLICATE_WINDOW_DAYS
from engine.models import (
    Organization,
    Request,
    Site,
    SupplyLot,
    User,
    Volunteer,
)

REF_PREFIX = {Kind.INVENTORY: "D", Kind.REQUESTS: "R"}  # generated refs: D-20261128-3fa2c1
ENTRY_ROLES = ("coordinator", "staff")
VOLUNTEER_ROLES = ("coordinator",)

# The pipeline's reasons (engine.imports.validate / store) and the codes they map to.
_DUPLICATE = re.compile(
    r"open request for (?P<category>\S+): (?P<other>\S+) \(filed (?P<filed>[0-9-]{10}), "
    r"less than (?P<days>[0-9]+) days apart\)"
)
_AT_MOST = re.compile(r"must be at most (?P<limit>[0-9]+)")


@dataclass(frozen=True)
class Problem:
    """One reason an entry is refused.

    ``field`` is the import column (``quantity``, ``household``, ``site``…);
    ``code`` says what is wrong in a way an interface can translate: ``missing``,
    ``invalid``, ``too_long`` / ``too_large`` (``params["limit"]``), ``order`` (an
    end before its start), ``missing_place``, ``site_and_place``, ``unknown_site``,
    ``address_not_found``, ``ref_taken``, ``bad_code``, ``reveals_household``,
    ``duplicate_household`` (``params``: ``other`` — ``ORG/REF`` of the open
    request, ``org_code`` its organization —, ``filed``, ``days``); ``reason`` is
    the pipeline's English text (never holding the household identifier).
    """

    field: str
    code: str
    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)


class EntryRejected(InputError):
    """The entry breaks one or more rules; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


def problem_of(issue: ImportIssue) -> Problem:
    """The :class:`Problem` an import issue stands for."""
    reason, column = issue.reason, issue.column
    params: dict[str, Any] = {}
    if column == HOUSEHOLD and (match := _DUPLICATE.search(reason)):
        other = match["other"]
        params = {
            "other": other,
            "org_code": other.partition("/")[0],
            "category": match["category"],
            "filed": date.fromisoformat(match["filed"]),
            "days": int(match["days"]),
        }
        code = "duplicate_household"
    elif column == HOUSEHOLD and reason.startswith("same household and category"):
        code = "duplicate_household"  # within one file: cannot happen for a form's one row
    elif reason.startswith("missing place"):
        code = "missing_place"
    elif reason.startswith("missing value"):
        code = "missing"
    elif reason.startswith("must be empty when site is given"):
        code = "site_and_place"
    elif reason.startswith("contains the household identifier"):
        code = "reveals_household"
    elif column == "site" and reason.startswith("unknown site"):
        code = "unknown_site"
    elif column == "address" and issue.row == ROW and not reason.startswith("must be"):
        code = "address_not_found"  # the geocoder's reason (engine.imports.places)
    elif reason.startswith("must be 1-64 letters"):
        code = "bad_code"
    elif reason.startswith("end ") and "precedes its start" in reason:
        code = "order"
    elif match := _AT_MOST.match(reason):
        params = {"limit": int(match["limit"])}
        code = "too_long" if "characters" in reason else "too_large"
    else:
        code = "invalid"
    return Problem(column, code, reason, params)


# -- the services


def add_lot(
    session: Session,
    actor: Actor,
    org_id: int,
    values: Mapping[str, str | None],
    *,
    site_id: int | None = None,
    today: date | None = None,
) -> SupplyLot:
    """Record a donation: a supply lot of ``org_id`` from ``values`` (inventory columns:
    ``ref`` (generated when empty), ``category``, ``quantity``, ``site`` or ``lat`` +
    ``lon`` + ``region``, ``expires``, ``regions``, ``donor``, ``received``).

    ``site_id`` names the site by id (a form's choice); a site of another
    organization, or none, is the problem ``unknown_site``.
    """
    require_role(actor, *ENTRY_ROLES)
    org = _organization(session, actor, org_id)
    cells = dict(values)
    problems: list[Problem] = []
    if site_id is not None:
        # By id, not by code: two organizations may both have a site "depot".
        site = session.get(Site, site_id)
        if site is None or site.org_id != org.id:
            problems.append(
                Problem("site", "unknown_site", f"unknown site of organization {org.code}")
            )
        else:
            cells["site"] = site.code
    try:
        _enter(session, actor, Kind.INVENTORY, org, cells, problems, today=today or date.today())
    except EntryRejected as rejected:
        if problems:  # the refused site: the place fields' "missing" follow from it
            raise EntryRejected(
                [
                    p
                    for p in rejected.problems
                    if not (p.field in ("lat", "lon", "region") and p.code == "missing")
                ]
            ) from None
        raise
    return _stored(session, SupplyLot, org.id, cells["ref"])


def add_request(
    session: Session,
    actor: Actor,
    org_id: int,
    values: Mapping[str, str | None],
    *,
    household_key: bytes | Callable[[], bytes],
    geocoder: Geocoder | None = None,
    duplicate_window_days: int = DUPLICATE_WINDOW_DAYS,
    today: date | None = None,
) -> Request:
    """Record a household's request for ``org_id`` from ``values`` (request columns:
    ``ref`` (generated when empty), ``household``, ``category``, ``quantity``,
    ``priority``, ``region``, ``lat`` + ``lon`` or ``address``, ``filed``,
    ``window_start``, ``window_end``, ``phone``, ``name``).

    The household identifier is stored only as its pseudonym under
    ``household_key``; a second open request of the household for the category
    filed less than ``duplicate_window_days`` apart, in any organization, is the
    problem ``duplicate_household``. ``geocoder`` places an address given without
    coordinates (``None``: none configured, such an entry is refused).
    """
    require_role(actor, *ENTRY_ROLES)
    org = _organization(session, actor, org_id)
    cells = dict(values)
    _enter(
        session,
        actor,
        Kind.REQUESTS,
        org,
        cells,
        [],
        today=today or date.today(),
        household_key=household_key,
        geocoder=geocoder,
        window_days=duplicate_window_days,
    )
    return _stored(session, Request, org.id, cells["ref"])


def add_volunteer(
    session: Session, actor: Actor, org_id: int, values: Mapping[str, str | None]
) -> Volunteer:
    """Record a volunteer of ``org_id`` from ``values`` (volunteer columns: ``ref``,
    ``name``, ``phone``, ``lat`` + ``lon`` (home), ``capacity_kg``, ``shift_start``,
    ``shift_end``, ``speed_kmh``, ``vehicle``, ``days``). Coordinators and admins."""
    require_role(actor, *VOLUNTEER_ROLES)
    org = _organization(session, actor, org_id)
    cells = dict(values)
    _enter(session, actor, Kind.VOLUNTEERS, org, cells, [], today=date.today())
    return _stored(session, Volunteer, org.id, cells["ref"])


class NoAccount(InputError):
    """The volunteer has no active volunteer account to sign in with."""


def volunteer_login_link(
    session: Session, actor: Actor, volunteer_id: int
) -> tuple[Volunteer, User, str]:
    """A one-time sign-in link token for the account of volunteer ``volunteer_id``
    (:func:`engine.accounts.create_login_link`, which archives it): the volunteer,
    the account and the token (shown once; only its hash is stored).

    A volunteer outside the actor's organization is *not found*; one without an
    active volunteer account is :class:`NoAccount`.
    """
    require_role(actor, *VOLUNTEER_ROLES)
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("no such volunteer")
    require_org(actor, volunteer.org_id, "volunteer")
    user = session.execute(
        select(User).where(User.volunteer_id == volunteer.id, User.role == "volunteer")
    ).scalar_one_or_none()
    if user is None or not user.active:
        raise NoAccount("this volunteer has no active account to sign in with")
    return volunteer, user, accounts.create_login_link(session, actor, user)


# -- one row through the import pipeline


def _organization(session: Session, actor: Actor, org_id: int) -> Organization:
    require_org(actor, org_id, "organization")
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("no such organization")
    return org


def _enter(
    session: Session,
    actor: Actor,
    kind: Kind,
    org: Organization,
    cells: dict[str, str | None],
    problems: list[Problem],
    *,
    today: date,
    household_key: bytes | Callable[[], bytes] = b"",
    geocoder: Geocoder | None = None,
    window_days: int = DUPLICATE_WINDOW_DAYS,
) -> None:
    """Check ``cells`` as one row of a ``kind`` file of ``org`` and write it, or raise
    :class:`EntryRejected` with every problem (nothing written). Fills ``cells["ref"]``."""
    columns = tuple(c for c in schema(kind).columns if c != "org")
    unknown = sorted(set(cells) - set(columns))
    if unknown:
        raise InputError(f"unknown fields: {', '.join(unknown)}")
    for name in columns:
        cells[name] = _cell(cells.get(name))
    # The checks below (a ref still free, the household rule) must hold until the
    # commit: a second entry of the same household waits for the first, then sees it.
    lock_for_write(session)
    table = _model(kind)
    if cells["ref"] is None and kind in REF_PREFIX:
        cells["ref"] = _new_ref(session, table, org.id, REF_PREFIX[kind], today)
    elif cells["ref"] is not None and _exists(session, table, org.id, cells["ref"]):
        problems.append(Problem("ref", "ref_taken", f"{org.code}/{cells['ref']} exists already"))
    prepared = prepare_row(
        session,
        kind,
        columns,
        cells,
        name="form",
        sha256="",  # names a file in the import event, which an entry does not write
        org=org.code,
        geocoder=geocoder,
        duplicate_window_days=window_days,
        today=today,
    )
    problems.extend(problem_of(issue) for issue in prepared.issues)
    if kind is Kind.VOLUNTEERS:
        problems.extend(_empty_shift(prepared))
    if problems:
        raise EntryRejected(problems)
    report = store_row(
        session,
        prepared,
        actor=actor.label,
        household_key=household_key,
        org=org.code,
        commit=True,
        duplicate_window_days=window_days,
        today=today,
        import_event=False,
        # Another entry took the same ref between the check and the write.
        conflict=f"{org.code}/{cells['ref']} was just recorded by someone else",
    )
    if not report.ok:
        raise EntryRejected([problem_of(issue) for issue in report.errors])
    if report.counts.new != 1:  # cannot happen: the ref was checked free above
        raise ConflictError(f"{org.code}/{cells['ref']} exists already")


def _empty_shift(prepared: Prepared) -> list[Problem]:
    # The import's rule allows an end equal to the start; the table's CHECK wants a
    # shift of some length (shift_end > shift_start): refuse it here, not as a 500.
    out = []
    for record in prepared.records:
        if isinstance(record, VolunteerRecord) and record.shift[1] <= record.shift[0]:
            out.append(Problem("shift_end", "order", "the shift must end after it starts"))
    return out


def _cell(value: str | None) -> str | None:
    """A form value as an import cell: stripped, empty as None (``read_table``'s rule)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _model(kind: Kind) -> type[SupplyLot] | type[Request] | type[Volunteer]:
    return {Kind.INVENTORY: SupplyLot, Kind.REQUESTS: Request, Kind.VOLUNTEERS: Volunteer}[kind]


def _exists(session: Session, model: Any, org_id: int, ref: str) -> bool:
    found = session.execute(
        select(model.id).where(model.org_id == org_id, model.ref == ref)
    ).first()
    return found is not None


def _new_ref(session: Session, model: Any, org_id: int, prefix: str, today: date) -> str:
    """A free ref such as ``R-20261128-3fa2c1`` (the day it was entered, 24 random bits)."""
    while True:
        ref = f"{prefix}-{today:%Y%m%d}-{secrets.token_hex(3)}"
        if not _exists(session, model, org_id, ref):
            return ref


def _stored(session: Session, model: Any, org_id: int, ref: str | None) -> Any:
    return session.execute(
        select(model).where(model.org_id == org_id, model.ref == ref)
    ).scalar_one()
