"""Factories for batches and allocations in platform tests (a published day without
running the solver): what ``batch publish`` leaves behind — the batch published, the
lots' units reserved, the requests allocated — and the archive events it records.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.db.base import utcnow
from engine.models import Allocation, Batch, Request, SupplyLot, Volunteer
from tests.platform.factories import DAY


def make_batch(session: Session, status: str = "published", day: Any = DAY, **kw: Any) -> Batch:
    """A batch of ``day`` (published by default) with stand-in scenario and plan texts."""
    scenario = kw.pop("scenario", "{}")
    plan = kw.pop("plan", "{}")
    batch = Batch(
        date=day,
        status=status,
        seed=kw.pop("seed", 0),
        scenario=scenario,
        scenario_sha256=hashlib.sha256(scenario.encode()).hexdigest(),
        plan=plan,
        plan_sha256=hashlib.sha256(plan.encode()).hexdigest(),
        created_by=kw.pop("created_by", "test"),
        published_at=utcnow() if status == "published" else None,
        **kw,
    )
    session.add(batch)
    session.flush()
    return batch


def make_allocation(
    session: Session,
    batch: Batch,
    plan_id: str,
    lot: SupplyLot,
    request: Request,
    quantity: int = 1,
    volunteer: Volunteer | None = None,
    status: str = "planned",
    *,
    reserve: bool | None = None,
) -> Allocation:
    """An allocation of ``batch``; on a published batch (unless ``reserve=False``) the
    lot's units are reserved and the request marked allocated, as publishing does."""
    allocation = Allocation(
        batch_id=batch.id,
        plan_id=plan_id,
        lot_id=lot.id,
        request_id=request.id,
        quantity=quantity,
        volunteer_id=volunteer.id if volunteer is not None else None,
        pickup_position=0 if volunteer is not None else None,
        delivery_position=1 if volunteer is not None else None,
        unrouted_reason=None if volunteer is not None else "no_vehicle",
        status=status,
    )
    session.add(allocation)
    if reserve if reserve is not None else batch.status == "published":
        lot.quantity_reserved += quantity
        if request.status == "open":
            request.status = "allocated" if status == "planned" else "in_transit"
    session.flush()
    return allocation


def publish_events(session: Session, batch: Batch, allocations: list[Allocation]) -> None:
    """Archive events like those of ``batch publish`` (for trace tests)."""
    audit.record(
        session,
        "coordinator@example.org",
        "batch.publish",
        "batch",
        batch.id,
        before={"status": "draft"},
        after={"status": "published"},
    )
    for a in allocations:
        audit.record(
            session,
            "coordinator@example.org",
            "allocation.reserve",
            "allocation",
            a.id,
            after={"plan_id": a.plan_id, "lot": a.lot_id, "request": a.request_id},
        )


def intake_events(session: Session, rows: list[Any], actor: str = "staff@example.org") -> None:
    """Archive events like an import's, one per lot or request (``lot.add`` /
    ``request.add``; a request's name, phone and address as erasable personal data)."""
    for row in rows:
        if isinstance(row, SupplyLot):
            after = {"ref": row.ref, "quantity_received": row.quantity_received}
            audit.record(session, actor, "lot.add", "lot", row.id, after=after)
        else:
            audit.record(
                session,
                actor,
                "request.add",
                "request",
                row.id,
                after={"ref": row.ref, "quantity": row.quantity, "household": "0" * 64},
                personal={"name": row.name, "phone": row.phone, "address": row.address},
            )
