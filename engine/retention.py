"""``jessr retention purge [--dry-run]``: personal data erased past its retention period.

Personal data is kept ``Settings.retention_days`` (``JESSR_RETENTION_DAYS``, 180)
after it stops being needed, then erased (the ICRC's data-protection practice):

- a request's ``name``, ``phone`` and ``address``, once the request is closed
  (``delivered``, ``failed`` or ``cancelled``) since longer than the period
  (counted from ``closed_at``, or from its last change when a closed request has
  none);
- an inactive volunteer's ``name`` and ``phone``, once inactive (last changed)
  since longer than the period;
- the erasable ``personal`` part of every archive event about those requests and
  volunteers (``engine.audit.erase_personal``), including events about records
  erased by an earlier purge.

Erasing sets the fields to NULL and stamps ``personal_erased_at``; nothing else
changes. The operations history stays whole (statuses, quantities, coordinates,
allocations, deliveries, every archive event), and the chain still verifies:
only each event's personal *digest* is hashed into the chain, and the PostgreSQL
guard allows exactly this update of the archive. The purge itself is archived as
one event with counts only (``retention.purge``). ``--dry-run`` counts what would be
erased and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from engine import audit
from engine.db.base import utcnow
from engine.models.audit import AuditEvent
from engine.models.people import Volunteer
from engine.models.reference import Organization
from engine.models.requests import Request
from engine.trace import ENTITY_TYPES

CLOSED_STATUSES = ("delivered", "failed", "cancelled")
VOLUNTEER_TYPES = ("volunteer", "volunteers")


@dataclass(frozen=True)
class PurgeResult:
    """What a purge erased (or, dry, would erase)."""

    requests: int
    volunteers: int
    audit_events: int
    retention_days: int
    cutoff: datetime
    dry_run: bool

    def as_dict(self) -> dict[str, object]:
        """JSON-able form (counts and the cutoff only)."""
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat(timespec="seconds")
        return data


def _requests_due(cutoff: datetime) -> ColumnElement[bool]:
    closed = func.coalesce(Request.closed_at, Request.updated_at)
    return and_(
        Request.status.in_(CLOSED_STATUSES),
        closed <= cutoff,
        Request.personal_erased_at.is_(None),
    )


def _volunteers_due(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        Volunteer.active.is_(False),
        Volunteer.updated_at <= cutoff,
        Volunteer.personal_erased_at.is_(None),
    )


def _entity_keys(session: Session, model: type, where: object) -> set[str]:
    """Row ids and ``ORG/REF`` of the rows of ``model`` matching ``where``."""
    rows = session.execute(
        select(model.id, model.ref, Organization.code)  # type: ignore[attr-defined]
        .join(Organization, Organization.id == model.org_id)  # type: ignore[attr-defined]
        .where(where)
    ).all()
    return {str(r.id) for r in rows} | {f"{r.code}/{r.ref}" for r in rows}


def _event_seqs(session: Session, types: Iterable[str], keys: set[str]) -> list[int]:
    """Events still holding personal data about the entities ``keys`` of ``types``.

    Scans only the events that still hold personal data (those not yet purged),
    and matches their entity in Python: no IN list as long as the archive.
    """
    held = session.execute(
        select(AuditEvent.seq, AuditEvent.entity_id).where(
            AuditEvent.entity_type.in_(tuple(types)), AuditEvent.personal.is_not(None)
        )
    ).all()
    return sorted(seq for seq, entity_id in held if entity_id in keys)


def purge(
    session: Session, retention_days: int, actor: str, *, dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeResult:  # fmt: skip
    """Erase (or, ``dry_run``, count) the personal data past ``retention_days``.

    Does not commit. Archives the purge as one ``retention.purge`` event with the
    counts (not with a dry run).
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    due_requests = _requests_due(cutoff)
    due_volunteers = _volunteers_due(cutoff)
    # Events about records erased now, and about records erased before whose events
    # were recorded since (a late update of an erased request, say).
    request_keys = _entity_keys(
        session, Request, or_(due_requests, Request.personal_erased_at.is_not(None))
    )
    volunteer_keys = _entity_keys(
        session, Volunteer, or_(due_volunteers, Volunteer.personal_erased_at.is_not(None))
    )
    seqs = _event_seqs(session, ENTITY_TYPES["request"], request_keys)
    seqs = sorted(set(seqs) | set(_event_seqs(session, VOLUNTEER_TYPES, volunteer_keys)))
    if dry_run:
        requests = session.execute(
            select(func.count()).select_from(Request).where(due_requests)
        ).scalar_one()
        volunteers = session.execute(
            select(func.count()).select_from(Volunteer).where(due_volunteers)
        ).scalar_one()
        return PurgeResult(requests, volunteers, len(seqs), retention_days, cutoff, True)
    # Conditional updates: a record erased by a concurrent purge is not counted twice.
    requests = session.execute(
        update(Request)
        .where(due_requests)
        .values(name=None, phone=None, address=None, personal_erased_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    volunteers = session.execute(
        update(Volunteer)
        .where(due_volunteers)
        .values(name=None, phone=None, personal_erased_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    events = audit.erase_personal(session, seqs)
    result = PurgeResult(requests, volunteers, events, retention_days, cutoff, False)
    audit.record(
        session,
        actor,
        "retention.purge",
        "retention",
        "purge",
        after={k: v for k, v in result.as_dict().items() if k != "dry_run"},
    )
    return result
