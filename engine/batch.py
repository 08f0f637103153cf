"""The daily batch: store a solved day as a draft, publish it, replay it.

A batch is one solve of a date's snapshot (:mod:`engine.snapshot`). The command
line (``engine.commands.batch``) snapshots, solves with
:func:`engine.solve.solve_scenario` outside any transaction, then calls
:func:`store_draft` in one transaction; :func:`publish` reserves the stock in
another. Services here take a session and never commit.

Allocations no volunteer can carry (the plan's ``unrouted`` list) are **offered
for collection at the lot's site**: they are stored like the routed ones
(``volunteer_id`` NULL, ``unrouted_reason`` the plan's reason), publishing
reserves their stock and marks their request allocated, and the household (or a
partner) collects at the site, recorded by a coordinator as any delivery. The
stock stays promised to the family that the plan chose rather than going back
to a pool where the next solve might give it to someone less urgent; ``batch
show`` counts them apart (``for collection at the site``) with their reasons.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from engine import audit
from engine.db.base import utcnow
from engine.db.session import begin_write
from engine.errors import ConflictError, InputError
from engine.models import Allocation, Batch, Request, SupplyLot
from engine.params import DayParams
from engine.snapshot import Snapshot
from engine.status import can_transition, transition

# Rows per ``IN (…)`` list: well under SQLite's 32,766 bound parameters.
CHUNK = 5000
STALE = "the state changed since the draft was made; run the batch again"


def sha256_text(text: str) -> str:
    """SHA-256 (hex) of ``text`` in UTF-8: the content hash of a stored document."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def params_record(params: DayParams) -> dict[str, Any]:
    """``params`` as JSON-able values (tuples become lists): what a batch stores."""
    return {f.name: _jsonable(getattr(params, f.name)) for f in dataclasses.fields(params)}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def params_from_record(record: Mapping[str, Any]) -> DayParams:
    """The :class:`DayParams` a batch stored (unknown fields ignored, lists as tuples)."""
    known = {f.name for f in dataclasses.fields(DayParams)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in known}
    return DayParams(**values)


def get_batch(session: Session, batch_id: int | str) -> Batch:
    """The batch ``batch_id``, or :class:`InputError` (exit 2) naming it."""
    try:
        key = int(batch_id)
    except (TypeError, ValueError):
        raise InputError(f"batch id: expected a number, got {batch_id!r}") from None
    batch = session.get(Batch, key)
    if batch is None:
        raise InputError(f"no batch {key}")
    return batch


def _plan_rows(
    plan: Mapping[str, Any], snap: Snapshot
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Allocation rows (without ``batch_id``) of a plan document, and counts."""
    routed: dict[str, tuple[int, int | None, int | None]] = {}
    positions: dict[str, list[int | None]] = defaultdict(lambda: [None, None])
    volunteer_of: dict[str, int] = {}
    for route in plan.get("routes", []):
        vid = snap.volunteer_ids[route["volunteer"]]
        for index, visit in enumerate(route["visits"]):
            for aid in visit.get("pickups", []):
                positions[aid][0] = index
                volunteer_of[aid] = vid
            for aid in visit.get("deliveries", []):
                positions[aid][1] = index
                volunteer_of[aid] = vid
    for aid, vid in volunteer_of.items():
        routed[aid] = (vid, positions[aid][0], positions[aid][1])
    reasons = {u["allocation"]: u["reason"] for u in plan.get("unrouted", [])}
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for a in plan["allocations"]:
        aid = a["id"]
        vid, pickup, delivery = routed.get(aid, (None, None, None))
        rows.append(
            {
                "plan_id": aid,
                "lot_id": snap.lot_ids[a["supply"]],
                "request_id": snap.request_ids[a["request"]],
                "quantity": a["quantity"],
                "volunteer_id": vid,
                "pickup_position": pickup,
                "delivery_position": delivery,
                # An allocation on no route and absent from ``unrouted`` would be a plan
                # bug; it is still offered for collection rather than lost.
                "unrouted_reason": None if vid is not None else reasons.get(aid, "unrouted"),
                "status": "planned",
                "created_at": now,
                "updated_at": now,
            }
        )
    counts = {
        "allocations": len(rows),
        "routed": sum(1 for r in rows if r["volunteer_id"] is not None),
        "for_collection": sum(1 for r in rows if r["volunteer_id"] is None),
        "routes": len(plan.get("routes", [])),
    }
    return rows, counts


def store_draft(
    session: Session,
    snap: Snapshot,
    scenario_text: str,
    plan_text: str,
    params: DayParams,
    actor: str,
    *,
    solve_seconds: float | None = None,
    search_record: Any = None,
    scale_out: Mapping[str, Any] | None = None,
) -> Batch:
    """Store a solved day as the date's draft, superseding its previous draft.

    One transaction (the caller's): the batch row with the scenario and plan texts and
    their SHA-256, the solve parameters and metrics; an allocation row per plan
    allocation; the previous draft of the date ``superseded``; audit events.
    """
    begin_write(session)  # SQLite: two runs of a date supersede in turn, not at once
    plan = json.loads(plan_text)
    rows, counts = _plan_rows(plan, snap)
    scenario = snap.scenario
    metrics: dict[str, Any] = {
        **plan.get("metrics", {}),
        **counts,
        "supplies": len(scenario.supplies),
        "requests": len(scenario.requests),
        "volunteers": len(scenario.volunteers),
        "unmet": len(plan.get("unmet", [])),
    }
    if solve_seconds is not None:
        metrics["solve_seconds"] = round(solve_seconds, 3)
    if scale_out is not None:  # where the parts ran, and the late ones (engine.remote)
        metrics["scale_out"] = dict(scale_out)
    unrouted = Counter(r["unrouted_reason"] for r in rows if r["unrouted_reason"] is not None)
    if unrouted:
        metrics["for_collection_reasons"] = dict(sorted(unrouted.items()))

    older = (
        session.execute(select(Batch).where(Batch.date == scenario.date, Batch.status == "draft"))
        .scalars()
        .all()
    )
    for old in older:
        transition(old, "superseded")
    session.flush()  # the partial unique index allows one draft per date

    batch = Batch(
        date=scenario.date,
        status="draft",
        seed=params.seed,
        time_limit=None if params.iterations is not None else params.time_limit,
        iterations=params.iterations,
        params=params_record(params),
        search_record=search_record,
        scenario=scenario_text,
        scenario_sha256=sha256_text(scenario_text),
        plan=plan_text,
        plan_sha256=sha256_text(plan_text),
        metrics=metrics,
        created_by=actor,
    )
    session.add(batch)
    session.flush()
    if rows:
        for row in rows:
            row["batch_id"] = batch.id
        session.execute(insert(Allocation), rows)
    for old in older:
        old.superseded_by_id = batch.id
        audit.record(
            session,
            actor,
            "batch.supersede",
            "batch",
            old.id,
            before={"status": "draft"},
            after={"status": "superseded", "superseded_by": batch.id},
        )
    audit.record(
        session,
        actor,
        "batch.run",
        "batch",
        batch.id,
        after={
            "date": scenario.date,
            "status": "draft",
            "seed": batch.seed,
            "time_limit": batch.time_limit,
            "iterations": batch.iterations,
            "scenario_sha256": batch.scenario_sha256,
            "plan_sha256": batch.plan_sha256,
            "metrics": metrics,
        },
    )
    session.flush()
    return batch


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def publish(session: Session, batch_id: int | str, actor: str) -> Batch:
    """Publish a draft: reserve its stock and allocate its requests, all or nothing.

    Every lot is reserved by a conditional ``UPDATE`` that only succeeds while the lot
    still has the units (``received - reserved - delivered >= n``), every request moves
    ``open → allocated`` by an ``UPDATE … WHERE status = 'open'``; a row count short of
    the expected raises :class:`ConflictError` (exit 3) and the caller's transaction
    rolls everything back. Lots and requests are taken in id order, so two concurrent
    publishes wait for each other instead of deadlocking. The lots' CHECK constraint
    (``reserved + delivered <= received``) is the last line of defence.
    """
    batch = get_batch(session, batch_id)
    if batch.status != "draft":
        raise ConflictError(
            f"batch {batch.id} is {batch.status}: only a draft can be published"
            + ("; run the batch again" if batch.status == "superseded" else "")
        )
    assert can_transition("batches", "draft", "published")
    # The batch row first: a concurrent publish of the same draft waits here (PostgreSQL)
    # or for the file lock (SQLite), then finds it published.
    claimed = session.execute(
        update(Batch)
        .where(Batch.id == batch.id, Batch.status == "draft")
        .values(status="published", published_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ConflictError(f"batch {batch.id} is no longer a draft; {STALE}")
    per_lot: dict[int, int] = defaultdict(int)
    request_ids: set[int] = set()
    for lot_id, request_id, quantity in session.execute(
        select(Allocation.lot_id, Allocation.request_id, Allocation.quantity).where(
            Allocation.batch_id == batch.id
        )
    ):
        per_lot[lot_id] += quantity
        request_ids.add(request_id)

    lot = SupplyLot
    reserve = (
        update(lot)
        .where(
            lot.id == bindparam("lot_id"),
            lot.quantity_received - lot.quantity_reserved - lot.quantity_delivered
            >= bindparam("units"),
        )
        .values(quantity_reserved=lot.quantity_reserved + bindparam("units"))
        .execution_options(synchronize_session=False)
    )
    for lot_id in sorted(per_lot):
        done = session.execute(reserve, {"lot_id": lot_id, "units": per_lot[lot_id]}).rowcount
        if done != 1:
            ref = _lot_label(session, lot_id)
            raise ConflictError(f"lot {ref} no longer has {per_lot[lot_id]} units free; {STALE}")

    assert can_transition("requests", "open", "allocated")
    ordered = sorted(request_ids)
    moved = 0
    for chunk in _chunks(ordered):
        moved += session.execute(
            update(Request)
            .where(Request.id.in_(chunk), Request.status == "open")
            .values(status="allocated", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    if moved != len(ordered):
        raise ConflictError(f"{len(ordered) - moved} request(s) are no longer open; {STALE}")

    session.refresh(batch)
    audit.record(
        session,
        actor,
        "batch.publish",
        "batch",
        batch.id,
        before={"status": "draft"},
        after={
            "status": "published",
            "plan_sha256": batch.plan_sha256,
            # What the publish changed, for the archive: units reserved per lot and
            # the requests now allocated (ids of supply_lots and requests).
            "reserved": {str(k): per_lot[k] for k in sorted(per_lot)},
            "requests_allocated": ordered,
        },
    )
    return batch


def _lot_label(session: Session, lot_id: int) -> str:
    from engine.models import Organization

    row = session.execute(
        select(Organization.code, SupplyLot.ref)
        .join(Organization, Organization.id == SupplyLot.org_id)
        .where(SupplyLot.id == lot_id)
    ).one_or_none()
    return f"{row.code}/{row.ref}" if row else str(lot_id)


def list_batches(session: Session, day: date | None = None) -> list[Batch]:
    """Batches, newest first (of ``day`` only when given)."""
    query = select(Batch).order_by(Batch.id.desc())
    if day is not None:
        query = query.where(Batch.date == day)
    return list(session.execute(query).scalars())


def allocation_counts(session: Session, batch_id: int) -> dict[str, int]:
    """Allocations of a batch by status."""
    rows = session.execute(
        select(Allocation.status, func.count())
        .where(Allocation.batch_id == batch_id)
        .group_by(Allocation.status)
    )
    return {status: n for status, n in rows}


def first_difference(expected: str, actual: str) -> str:
    """Where two documents' texts first differ: line number and both lines."""
    a, b = expected.splitlines(), actual.splitlines()
    for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return f"line {number}: stored {x.strip()!r}, replayed {y.strip()!r}"
    if len(a) != len(b):
        return f"stored {len(a)} lines, replayed {len(b)}"
    return "the texts differ in line endings or whitespace"
