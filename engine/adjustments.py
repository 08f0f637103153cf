"""A coordinator's adjustments of a day's plan: exclude or pin a lot–request pair.

Reviewing a draft, a coordinator may **exclude** an allocation (the next runs of
that date must never give that lot to that request) or **pin** it (they must
keep it: the same lot, request and quantity). An adjustment belongs to the
date, not to the draft, and stays active until cleared.

The next run honours them through its scenario, not behind the solver's back:
:func:`scenario_with_adjustments` (called by :func:`engine.snapshot.snapshot`)
writes the active adjustments into the day's scenario as ``exclusions`` and
``pins`` (the format's optional keys, :mod:`engine.scenario.model`). The solver
allocates the pins first and never the exclusions, the checker verifies both, and
the batch's stored scenario holds them, so ``jessr batch replay`` solves exactly
what the run solved. A pin that no longer fits the day (its lot has less free
stock, its request is no longer open or needs less) is left out of that
scenario and reported, never forced.

Services take a session and never commit; every change is an audit event.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.db.base import utcnow
from engine.errors import ConflictError, InputError, NotFound
from engine.models import Allocation, Batch, Organization, PlanAdjustment, Request, SupplyLot
from engine.models.adjustments import ADJUSTMENT_KINDS
from engine.scenario.model import Pin, Scenario, pair_problems


@dataclass(frozen=True)
class AdjustmentView:
    """An adjustment as pages show it: lot and request as ``ORG/REF``."""

    id: int
    date: date
    kind: str
    lot: str
    request: str
    quantity: int | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Skipped:
    """An active pin the day's scenario could not hold, and why (one line)."""

    adjustment_id: int
    lot: str
    request: str
    reason: str


def _refs(session: Session, model: type, ids: set[int]) -> dict[int, str]:
    """``ORG/REF`` of the lots or requests ``ids``."""
    if not ids:
        return {}
    rows = session.execute(
        select(model.id, Organization.code, model.ref)  # type: ignore[attr-defined]
        .join(Organization, Organization.id == model.org_id)  # type: ignore[attr-defined]
        .where(model.id.in_(sorted(ids)))  # type: ignore[attr-defined]
    )
    return {row_id: f"{code}/{ref}" for row_id, code, ref in rows}


def _active_rows(session: Session, day: date) -> list[PlanAdjustment]:
    return list(
        session.execute(
            select(PlanAdjustment)
            .where(PlanAdjustment.date == day, PlanAdjustment.cleared_at.is_(None))
            .order_by(PlanAdjustment.id)
        ).scalars()
    )


def _views(session: Session, rows: list[PlanAdjustment]) -> list[AdjustmentView]:
    lots = _refs(session, SupplyLot, {r.lot_id for r in rows})
    requests = _refs(session, Request, {r.request_id for r in rows})
    return [
        AdjustmentView(
            r.id,
            r.date,
            r.kind,
            lots.get(r.lot_id, str(r.lot_id)),
            requests.get(r.request_id, str(r.request_id)),
            r.quantity,
            r.created_by,
            r.created_at,
        )
        for r in rows
    ]


def active_adjustments(session: Session, day: date, actor: Actor) -> list[AdjustmentView]:
    """The adjustments the next run of ``day`` will honour, oldest first."""
    require_role(actor, "coordinator")
    return _views(session, _active_rows(session, day))


def _draft(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    if batch.status != "draft":
        raise ConflictError(
            f"batch {batch.id} is {batch.status}: adjust the current draft of "
            f"{batch.date.isoformat()}"
        )
    return batch


def _clear(session: Session, row: PlanAdjustment, actor: Actor, why: str) -> None:
    row.cleared_at = utcnow()
    audit.record(
        session,
        actor.label,
        "plan_adjustment.clear",
        "plan_adjustment",
        row.id,
        before={"active": True},
        after={"active": False, "why": why},
    )


def adjust(
    session: Session, batch_id: int, allocation: str, kind: str, actor: Actor
) -> tuple[PlanAdjustment, bool]:
    """Exclude or pin allocation ``allocation`` (its plan id, ``A17``) of draft ``batch_id``.

    Stores a :class:`PlanAdjustment` for the batch's date; returns it and whether it
    is new (``False``: the same adjustment was already active, nothing written).
    Excluding a pinned pair clears its pins, pinning an excluded pair clears the
    exclusion: the last decision holds. A pair may be pinned as often as the draft
    has allocations of it with that quantity (a load split into equal pieces), so a
    repeated click does not pin it twice.
    """
    require_role(actor, "coordinator")
    if kind not in ADJUSTMENT_KINDS:
        raise InputError(f"kind: expected exclude or pin, got {kind!r}")
    batch = _draft(session, batch_id)
    row = session.execute(
        select(Allocation).where(Allocation.batch_id == batch.id, Allocation.plan_id == allocation)
    ).scalar_one_or_none()
    if row is None:
        raise InputError(f"allocation: batch {batch.id} has no allocation {allocation!r}")
    same_pair = [
        a
        for a in _active_rows(session, batch.date)
        if a.lot_id == row.lot_id and a.request_id == row.request_id
    ]
    if kind == "exclude":
        existing = next((a for a in same_pair if a.kind == "exclude"), None)
        if existing is not None:
            return existing, False
    else:
        pins = [a for a in same_pair if a.kind == "pin" and a.quantity == row.quantity]
        pieces = session.scalar(
            select(func.count())
            .select_from(Allocation)
            .where(
                Allocation.batch_id == batch.id,
                Allocation.lot_id == row.lot_id,
                Allocation.request_id == row.request_id,
                Allocation.quantity == row.quantity,
            )
        )
        if len(pins) >= (pieces or 0):
            return pins[0], False
    for old in same_pair:
        if old.kind != kind:
            _clear(session, old, actor, f"replaced by a {kind}")
    adjustment = PlanAdjustment(
        date=batch.date,
        kind=kind,
        lot_id=row.lot_id,
        request_id=row.request_id,
        quantity=row.quantity if kind == "pin" else None,
        created_by=actor.label,
    )
    session.add(adjustment)
    session.flush()
    refs = _views(session, [adjustment])[0]
    audit.record(
        session,
        actor.label,
        f"plan_adjustment.{kind}",
        "plan_adjustment",
        adjustment.id,
        after={
            "date": batch.date,
            "kind": kind,
            "lot": refs.lot,
            "request": refs.request,
            "quantity": adjustment.quantity,
            "batch": batch.id,
            "allocation": allocation,
        },
    )
    return adjustment, True


def clear_adjustment(session: Session, adjustment_id: int, actor: Actor) -> PlanAdjustment:
    """Clear adjustment ``adjustment_id``: the next runs of its date ignore it."""
    require_role(actor, "coordinator")
    row = session.get(PlanAdjustment, adjustment_id)
    if row is None:
        raise NotFound(f"no adjustment {adjustment_id}")
    if row.cleared_at is not None:
        raise ConflictError(f"adjustment {adjustment_id} was already cleared")
    _clear(session, row, actor, "cleared")
    return row


def scenario_with_adjustments(
    session: Session,
    scenario: Scenario,
    lot_ids: dict[str, int],
    request_ids: dict[str, int],
) -> tuple[Scenario, tuple[Skipped, ...]]:
    """``scenario`` with the active adjustments of its date as exclusions and pins.

    ``lot_ids``/``request_ids`` map the scenario's ``ORG/REF`` ids to row ids (the
    snapshot's). An exclusion whose lot or request is not in the scenario has
    nothing to exclude and is left out. A pin is left out, and reported, when its
    lot or request is not in the scenario, when the pair is no longer eligible, or
    when it does not fit the lot's free stock or the request's quantity beside the
    pins before it (oldest first): the scenario stays valid whatever happened since.
    Exclusions are sorted and pins ordered by (lot, request, quantity), so the same
    adjustments give the same scenario text.
    """
    rows = _active_rows(session, scenario.date)
    if not rows:
        return scenario, ()
    lot_ref = {v: k for k, v in lot_ids.items()}
    request_ref = {v: k for k, v in request_ids.items()}
    supplies = {s.id: s for s in scenario.supplies}
    requests = {r.id: r for r in scenario.requests}
    exclusions = {
        (lot_ref[r.lot_id], request_ref[r.request_id])
        for r in rows
        if r.kind == "exclude" and r.lot_id in lot_ref and r.request_id in request_ref
    }
    given: dict[str, int] = defaultdict(int)
    got: dict[str, int] = defaultdict(int)
    pins: list[Pin] = []
    skipped: list[Skipped] = []
    names = _views(session, [r for r in rows if r.kind == "pin"])
    for row, view in zip([r for r in rows if r.kind == "pin"], names, strict=True):
        sid, rid = lot_ref.get(row.lot_id), request_ref.get(row.request_id)
        units = row.quantity or 0
        why = None
        if sid is None:
            why = "the lot has no free stock on this date"
        elif rid is None:
            why = "the request is no longer open"
        elif (sid, rid) in exclusions:
            why = "the pair is also excluded"
        else:
            problems = pair_problems(scenario.date, scenario.policy, supplies[sid], requests[rid])
            if problems:
                why = "not an eligible pair: " + "; ".join(problems)
            elif given[sid] + units > supplies[sid].quantity:
                why = f"the lot has {supplies[sid].quantity - given[sid]} units free, not {units}"
            elif got[rid] + units > requests[rid].quantity:
                why = f"the request needs {requests[rid].quantity - got[rid]} more, not {units}"
        if why is not None:
            skipped.append(Skipped(row.id, view.lot, view.request, why))
            continue
        assert sid is not None and rid is not None
        given[sid] += units
        got[rid] += units
        pins.append(Pin(sid, rid, units))
    pins.sort(key=lambda p: (p.supply, p.request, p.quantity))
    adjusted = dataclasses.replace(scenario, exclusions=frozenset(exclusions), pins=tuple(pins))
    return adjusted, tuple(skipped)
