"""``jessr trace lot|request|household``: the whole story of one record.

A trace joins the archive's events (``engine.audit.events_of``-style look-ups) with
the current rows: the record's own events (intake or import, updates, stock and
status changes), the events of its allocations (reserved by a published batch,
picked up, delivered or failed, each with who and when) and of the batches those
allocations belong to (run, publication), all in archive order (``seq``, which is
commit order). A household's trace is the trace of each of its requests, in every
organization.

Events are matched by entity type and by entity id given either as the row's id
or as ``ORG/REF``, so an event recorded either way is found. Nothing personal is
printed: names, phones and addresses stay out (the trace says whether they are
still held), and a household is never shown by its identifier nor its pseudonym —
the identifier given on the command line is only hashed to find it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, require_org, require_role
from engine.db.base import as_utc
from engine.errors import InputError, NotFound
from engine.models.audit import AuditEvent
from engine.models.batches import Allocation, Batch
from engine.models.people import Household, Volunteer
from engine.models.reference import Organization, Site
from engine.models.requests import Request
from engine.models.supplies import SupplyLot

# Entity types under which the archive may name each kind of record.
ENTITY_TYPES = {
    "lot": ("lot", "supply_lot", "supply_lots", "inventory"),
    "request": ("request", "requests"),
    "allocation": ("allocation", "allocations"),
    "batch": ("batch", "batches"),
}
# Keys of archived values that could carry a household's pseudonym: never shown.
HIDDEN_KEYS = ("household", "household_id", "household_pseudonym", "pseudonym")
HIDDEN = "(pseudonymised)"


def scrub(value: Any) -> Any:
    """``value`` (decoded archive JSON) with every household reference masked."""
    if isinstance(value, dict):
        return {k: HIDDEN if k in HIDDEN_KEYS else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


@dataclass
class TraceEvent:
    """One archived event of a trace."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str  # "lot crt/L1", "allocation 3/A1", "batch 3"
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "seq": self.seq,
            "at": _iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Trace:
    """The story of one record (``kind`` lot, request or household)."""

    kind: str
    label: str
    current: dict[str, Any]
    allocations: list[dict[str, Any]] = field(default_factory=list)
    events: list[TraceEvent] = field(default_factory=list)
    parts: list[Trace] = field(default_factory=list)  # a household's requests

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (``jessr trace --json``)."""
        data: dict[str, Any] = {"kind": self.kind, "ref": self.label, "current": self.current}
        if self.kind == "household":
            data["requests"] = [p.as_dict() for p in self.parts]
        else:
            data["allocations"] = self.allocations
            data["history"] = [e.as_dict() for e in self.events]
        return data


def _iso(at: datetime | None) -> str | None:
    return None if at is None else as_utc(at).isoformat(timespec="seconds").replace("+00:00", "Z")


def _org_code(session: Session, org_id: int) -> str:
    return session.execute(select(Organization.code).where(Organization.id == org_id)).scalar_one()


def _resolve(session: Session, model: Any, kind: str, ref: str, org: str | None) -> Any:
    """The lot or request ``ORG/REF`` (or ``REF`` with ``--org``, or a REF unique across
    organizations); InputError naming what is missing or ambiguous."""
    ref = ref.strip()
    code, sep, local = ref.partition("/")
    query = select(model, Organization.code).join(Organization, Organization.id == model.org_id)
    if sep:
        if org is not None and org != code:
            raise InputError(f"trace {kind}: {ref} belongs to {code}, not to --org {org}")
        query = query.where(Organization.code == code, model.ref == local)
    else:
        query = query.where(model.ref == ref)
        if org is not None:
            query = query.where(Organization.code == org)
    rows = session.execute(query).all()
    if not rows:
        where = f" of {org}" if org and not sep else ""
        raise InputError(f"trace {kind}: no {kind} {ref}{where}")
    if len(rows) > 1:
        codes = ", ".join(sorted(f"{c}/{r.ref}" for r, c in rows))
        raise InputError(f"trace {kind}: {ref} is ambiguous ({codes}); give ORG/REF or --org")
    return rows[0][0]


def _events(
    session: Session, kind: str, ids: list[tuple[int, str]], labels: dict[tuple[str, str], str]
) -> list[AuditEvent]:
    """Events of records of ``kind`` whose ids (row id or ``ORG/REF``) are ``ids``."""
    if not ids:
        return []
    keys = {str(i) for i, _ in ids} | {alt for _, alt in ids if alt}
    for row_id, alt in ids:
        labels[(kind, str(row_id))] = alt
        if alt:
            labels[(kind, alt)] = alt
    query = select(AuditEvent).where(
        AuditEvent.entity_type.in_(ENTITY_TYPES[kind]), AuditEvent.entity_id.in_(sorted(keys))
    )
    return list(session.execute(query).scalars())


def _kind_of(entity_type: str) -> str:
    for kind, names in ENTITY_TYPES.items():
        if entity_type in names:
            return kind
    return entity_type


def _decode(text: str | None) -> Any:
    return None if text is None else scrub(json.loads(text))


def _allocations(session: Session, where: Any) -> list[tuple[Allocation, Batch]]:
    query = (
        select(Allocation, Batch)
        .join(Batch, Batch.id == Allocation.batch_id)
        .where(where)
        .order_by(Allocation.batch_id, Allocation.id)
    )
    return [(a, b) for a, b in session.execute(query).all()]


def _allocation_view(session: Session, allocation: Allocation, batch: Batch) -> dict[str, Any]:
    lot = session.get(SupplyLot, allocation.lot_id)
    request = session.get(Request, allocation.request_id)
    volunteer = session.get(Volunteer, allocation.volunteer_id) if allocation.volunteer_id else None
    assert lot is not None and request is not None
    return {
        "allocation": f"{batch.id}/{allocation.plan_id}",
        "batch_date": batch.date.isoformat(),
        "batch_status": batch.status,
        "lot": f"{_org_code(session, lot.org_id)}/{lot.ref}",
        "request": f"{_org_code(session, request.org_id)}/{request.ref}",
        "quantity": allocation.quantity,
        "volunteer": (
            f"{_org_code(session, volunteer.org_id)}/{volunteer.ref}" if volunteer else None
        ),
        "unrouted_reason": allocation.unrouted_reason,
        "status": allocation.status,
    }


def _story(
    session: Session,
    kind: str,
    row_id: int,
    label: str,
    allocations: list[tuple[Allocation, Batch]],
) -> list[TraceEvent]:
    """The events of the record, of its allocations and of their batches, by ``seq``."""
    labels: dict[tuple[str, str], str] = {}
    found = _events(session, kind, [(row_id, label)], labels)
    found += _events(
        session,
        "allocation",
        [(a.id, f"{b.id}/{a.plan_id}") for a, b in allocations],
        labels,
    )
    batches = sorted({b.id for _, b in allocations})
    found += _events(session, "batch", [(b, str(b)) for b in batches], labels)
    unique = {e.seq: e for e in found}
    story = []
    for seq in sorted(unique):
        event = unique[seq]
        event_kind = _kind_of(event.entity_type)
        name = labels.get((event_kind, event.entity_id), event.entity_id)
        story.append(
            TraceEvent(
                seq=event.seq,
                at=event.at,
                actor=event.actor,
                action=event.action,
                subject=f"{event_kind} {name}",
                before=_decode(event.before),
                after=_decode(event.after),
            )
        )
    return story


def trace_lot(session: Session, ref: str, org: str | None = None) -> Trace:
    """The story of the lot ``ref`` (``ORG/REF``, or ``REF`` with ``org``)."""
    lot: SupplyLot = _resolve(session, SupplyLot, "lot", ref, org)
    label = f"{_org_code(session, lot.org_id)}/{lot.ref}"
    site = session.get(Site, lot.site_id) if lot.site_id else None
    current = {
        "category": lot.category_id,
        "quantity_received": lot.quantity_received,
        "quantity_reserved": lot.quantity_reserved,
        "quantity_delivered": lot.quantity_delivered,
        "quantity_available": lot.quantity_available,
        "site": site.code if site else None,
        "region": site.region_code if site else lot.region_code,
        "expires": lot.expires.isoformat() if lot.expires else None,
        "donor": lot.donor,
        "regions": lot.regions,
        "received_on": lot.received_on.isoformat() if lot.received_on else None,
        "created_at": _iso(lot.created_at),
    }
    allocations = _allocations(session, Allocation.lot_id == lot.id)
    return Trace(
        "lot",
        label,
        current,
        [_allocation_view(session, a, b) for a, b in allocations],
        _story(session, "lot", lot.id, label, allocations),
    )


def _request_trace(session: Session, request: Request) -> Trace:
    label = f"{_org_code(session, request.org_id)}/{request.ref}"
    current = {
        "category": request.category_id,
        "quantity": request.quantity,
        "priority": request.priority,
        "region": request.region_code,
        "filed": request.filed.isoformat(),
        "status": request.status,
        "closed_at": _iso(request.closed_at),
        "personal_data": "erased" if request.personal_erased_at else "held",
        "created_at": _iso(request.created_at),
    }
    allocations = _allocations(session, Allocation.request_id == request.id)
    return Trace(
        "request",
        label,
        current,
        [_allocation_view(session, a, b) for a, b in allocations],
        _story(session, "request", request.id, label, allocations),
    )


def trace_request(session: Session, ref: str, org: str | None = None) -> Trace:
    """The story of the request ``ref`` (``ORG/REF``, or ``REF`` with ``org``)."""
    return _request_trace(session, _resolve(session, Request, "request", ref, org))


def trace_household(session: Session, key: bytes, identifier: str) -> Trace:
    """The requests of the household an organization knows as ``identifier``, in every
    organization, each with its story. The identifier is only hashed (with the
    household key) to find the household; it is never printed nor stored.
    """
    from engine.households import pseudonym
    from engine.keys import check_household_key

    check_household_key(session, key)
    candidates = [identifier]
    code, sep, local = identifier.partition("/")
    if sep and local:  # ORG/REF: the identifier as organization ORG knows it
        known = session.execute(
            select(Organization.id).where(Organization.code == code)
        ).scalar_one_or_none()
        if known is not None:
            candidates.insert(0, local)
    household = None
    for candidate in candidates:
        try:
            digest = pseudonym(key, candidate)
        except ValueError:
            continue
        household = session.execute(
            select(Household).where(Household.pseudonym == digest)
        ).scalar_one_or_none()
        if household is not None:
            break
    if household is None:
        # Never echo the identifier: it is often a national ID number.
        raise InputError("trace household: no household with this identifier")
    requests = (
        session.execute(
            select(Request)
            .where(Request.household_id == household.id)
            .order_by(Request.filed, Request.id)
        )
        .scalars()
        .all()
    )
    parts = [_request_trace(session, r) for r in requests]
    orgs = sorted({p.label.split("/")[0] for p in parts})
    current = {
        "requests": len(parts),
        "organizations": orgs,
        "first_seen": _iso(household.created_at),
    }
    return Trace("household", "(identifier not shown)", current, parts=parts)


_TRACED = {"lot": SupplyLot, "request": Request}


def find_record(session: Session, actor: Actor, kind: str, ref: str) -> int:
    """The id of the lot or request ``ref`` (``ORG/REF``, or a REF unique across
    organizations) within ``actor``'s scope; InputError when unknown or ambiguous."""
    require_role(actor, "coordinator")
    if kind not in _TRACED:
        raise InputError(f"trace: expected lot or request, got {kind!r}")
    row = _resolve(session, _TRACED[kind], kind, ref, None)
    require_org(actor, row.org_id, kind)
    return int(row.id)


def trace_by_id(session: Session, actor: Actor, kind: str, record_id: int) -> Trace:
    """The trace of lot or request ``record_id`` (the web's ``/trace/lot/<id>``);
    :class:`NotFound` when there is none within ``actor``'s scope."""
    require_role(actor, "coordinator")
    if kind not in _TRACED:
        raise NotFound(f"no such {kind}")
    row = session.get(_TRACED[kind], record_id)
    if row is None:
        raise NotFound(f"no such {kind}")
    require_org(actor, row.org_id, kind)
    if kind == "request":
        return _request_trace(session, row)
    return trace_lot(session, f"{_org_code(session, row.org_id)}/{row.ref}")


# A batch event lists every lot and request it touched; a trace of one record
# shows how many, not thousands of ids (``--json`` keeps them whole).
LONG_ITEMS = 8


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict) and len(value) > LONG_ITEMS:
        what = "entries" if isinstance(value, dict) else "items"
        return f"({len(value):,} {what})"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _changes(before: Any, after: Any) -> str:
    """``key: old → new`` for what changed, else the new values, on one line."""
    if isinstance(after, dict):
        old = before if isinstance(before, dict) else {}
        parts = []
        for key, value in after.items():
            if value is None and key not in old:
                continue
            if key in old and old[key] != value:
                parts.append(f"{key}: {_value(old[key])} → {_value(value)}")
            elif key not in old:
                parts.append(f"{key}={_value(value)}")
        return ", ".join(parts)
    if after is None and before is not None:
        return f"was {_value(before)}"
    return "" if after is None else _value(after)


def _render_one(trace: Trace, indent: str = "") -> list[str]:
    lines = [f"{indent}{trace.kind} {trace.label}"]
    lines += [f"{indent}  {k}: {_value(v)}" for k, v in trace.current.items() if v is not None]
    lines.append(f"{indent}allocations:" if trace.allocations else f"{indent}allocations: none")
    for a in trace.allocations:
        where = f"volunteer {a['volunteer']}" if a["volunteer"] else a["unrouted_reason"]
        lines.append(
            f"{indent}  {a['allocation']} (batch of {a['batch_date']}, {a['batch_status']}): "
            f"{a['quantity']} of lot {a['lot']} for request {a['request']}, {where}, "
            f"{a['status'].replace('_', ' ')}"
        )
    lines.append(f"{indent}history:" if trace.events else f"{indent}history: no archived event")
    for e in trace.events:
        detail = _changes(e.before, e.after)
        lines.append(
            f"{indent}  {_iso(e.at)}  #{e.seq}  {e.action}  {e.subject}  by {e.actor}"
            + (f"  — {detail}" if detail else "")
        )
    return lines


def render(trace: Trace) -> str:
    """The trace as readable text (oldest event first)."""
    if trace.kind != "household":
        return "\n".join(_render_one(trace)) + "\n"
    c = trace.current
    lines = [
        f"household {trace.label}: {c['requests']} request(s) in "
        f"{len(c['organizations'])} organization(s) ({', '.join(c['organizations'])})"
    ]
    for part in trace.parts:
        lines.append("")
        lines += _render_one(part, "  ")
    return "\n".join(lines) + "\n"


__all__ = [
    "Trace",
    "TraceEvent",
    "find_record",
    "render",
    "trace_by_id",
    "trace_household",
    "trace_lot",
    "trace_request",
]
