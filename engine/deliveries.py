"""Delivery reports (``jessr delivery``): an allocation picked up, delivered or failed.

Only an allocation of a **published** batch can be reported on. The moves are:

- ``picked-up``: allocation ``planned → picked_up``; its request ``allocated →
  in_transit`` (a request already in transit, or returned to the pool, stays).
- ``delivered``: allocation ``picked_up → delivered``; the lot's units move from
  reserved to delivered (``reserved -= q, delivered += q``); the request becomes
  ``delivered`` (``closed_at`` stamped) once every allocation of it in a published
  batch is delivered or cancelled.
- ``failed`` (a reason is required): allocation ``planned | picked_up → failed``;
  the lot's reservation is released (``reserved -= q``); the request returns to the
  open pool (``allocated | in_transit → open``) with its history kept (the
  allocation, its delivery reports and the archive stay). A request split over
  several allocations returns whole; its other parts carry on.

Anything else (delivered before picked up, twice delivered, on a draft) is a
:class:`~engine.errors.ConflictError` (exit 3), checked against the status table of
:mod:`engine.status`.

**Concurrency.** Every row changes through a conditional ``UPDATE … WHERE status =
<expected>`` (the lot: ``WHERE quantity_reserved >= q``) with a row-count check, so N
processes reporting on one lot or one allocation at once never double-count and
never drive stock negative: of two reports on one allocation exactly one changes it,
the other finds the status moved and exits 3. Rows are written allocation, then
lot, then request, then the archive's head (the order every report takes, so two
reports cannot wait on each other in a cycle); the lot's CHECK constraints are the
last line of defence.

**Who may report.** ``by`` names the user reporting (``--by EMAIL``): an active
account that is the volunteer holding the route (role ``volunteer``, linked to the
allocation's volunteer), or a coordinator or admin of an organization concerned by
the allocation (the lot's, the request's or the volunteer's); an admin without an
organization is a platform admin and may report on any. Without ``by``, the report is
the operator's (the command line's actor, ``JESSR_ACTOR``): whoever runs ``jessr``
against the database already holds every right. A signed-in account reports
through :func:`mark_allocation` (or ``report_delivery`` with an :class:`Actor`):
the volunteer holding the route, a coordinator of an organization concerned, an
admin; anyone else finds *no such allocation* (:class:`~engine.errors.NotFound`).

**Idempotency.** A report may carry an ``idempotency_key`` (the volunteer page makes
one per mark on the phone and sends a mark made offline again until it is
acknowledged). A key already stored for the same allocation, move and account
returns the original result and changes nothing (no second row, no second archive
event); the same key for another allocation or move is refused. Two identical
reports at once: the conditional ``UPDATE`` lets one through; the other finds the
status moved, then the winner's key (committed by then: the loser's ``UPDATE``
waited for it), and answers as a replay. ``deliveries.idempotency_key`` is unique,
the last line of defence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.db.base import utcnow
from engine.errors import ConflictError, InputError, NotFound
from engine.models.batches import Allocation, Batch
from engine.models.deliveries import Delivery
from engine.models.people import User, Volunteer
from engine.models.reference import Organization
from engine.models.requests import Request
from engine.models.supplies import SupplyLot
from engine.status import can_transition

# Command-line words (and the statuses themselves) -> allocation statuses.
KINDS = {
    "picked-up": "picked_up",
    "picked_up": "picked_up",
    "delivered": "delivered",
    "failed": "failed",
}
MAX_REASON = 1000
# A client's idempotency key: a UUID in practice; letters, digits, '-' and '_'.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True)
class DeliveryResult:
    """What one report changed (for the command's output)."""

    allocation: str  # BATCH/A17
    status: str  # the allocation's new status
    lot: str  # ORG/REF
    request: str  # ORG/REF
    request_status: str
    quantity: int
    allocation_id: int = 0
    replayed: bool = False  # True: a repeated idempotency key, nothing changed


class TransitionRefused(ConflictError):
    """The allocation's status does not allow the move (``current`` → ``new``)."""

    def __init__(self, ref: str, current: str, new: str) -> None:
        super().__init__(
            f"allocation {ref} is {current.replace('_', ' ')}: "
            f"it cannot become {new.replace('_', ' ')}"
        )
        self.current = current
        self.new = new


class NotPublished(ConflictError):
    """The allocation's batch is not published (a draft, closed or superseded)."""

    def __init__(self, ref: str, batch_id: int, status: str) -> None:
        super().__init__(
            f"allocation {ref}: batch {batch_id} is {status}, not published; "
            "deliveries are reported on published batches only"
        )
        self.batch_status = status


class KeyReused(ConflictError):
    """The idempotency key was already used for another report."""


def parse_allocation_ref(text: str) -> tuple[int, str]:
    """``BATCH_ID/A17`` -> ``(batch id, plan id)``; InputError otherwise."""
    batch_text, sep, plan_id = text.strip().partition("/")
    if not sep or not plan_id or not batch_text.isdigit():
        raise InputError(
            f"allocation: expected BATCH_ID/PLAN_ID as `batch show ID --plan` names it "
            f"(e.g. 12/A17), got {text!r}"
        )
    return int(batch_text), plan_id


def find_allocation(session: Session, text: str) -> tuple[Batch, Allocation]:
    """The allocation ``BATCH_ID/A17`` with its batch; InputError when there is none."""
    batch_id, plan_id = parse_allocation_ref(text)
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise InputError(f"allocation {text}: no batch {batch_id}")
    allocation = session.execute(
        select(Allocation).where(Allocation.batch_id == batch_id, Allocation.plan_id == plan_id)
    ).scalar_one_or_none()
    if allocation is None:
        raise InputError(f"allocation {text}: batch {batch_id} has no allocation {plan_id}")
    return batch, allocation


def _label(session: Session, org_id: int, ref: str) -> str:
    code = session.execute(select(Organization.code).where(Organization.id == org_id)).scalar_one()
    return f"{code}/{ref}"


def check_reporter(session: Session, email: str, allocation: Allocation) -> User:
    """The active user ``email``, if they may report on ``allocation``; else InputError.

    Allowed: the volunteer holding the route, a coordinator or admin of the lot's,
    the request's or the volunteer's organization, an admin without organization.
    """
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise InputError(f"--by: no user {email}")
    if not user.active:
        raise InputError(f"--by: the account {user.email} is inactive")
    if user.role == "volunteer":
        if allocation.volunteer_id is not None and user.volunteer_id == allocation.volunteer_id:
            return user
        raise InputError(
            f"--by: {user.email} does not hold the route of this allocation; only its "
            "volunteer or a coordinator of the organization may report on it"
        )
    if user.role in ("coordinator", "admin"):
        if user.role == "admin" and user.org_id is None:
            return user
        orgs = {
            session.execute(
                select(SupplyLot.org_id).where(SupplyLot.id == allocation.lot_id)
            ).scalar_one(),
            session.execute(
                select(Request.org_id).where(Request.id == allocation.request_id)
            ).scalar_one(),
        }
        if allocation.volunteer_id is not None:
            orgs.add(
                session.execute(
                    select(Volunteer.org_id).where(Volunteer.id == allocation.volunteer_id)
                ).scalar_one()
            )
        if user.org_id in orgs:
            return user
        raise InputError(
            f"--by: {user.email} is a {user.role} of another organization than this allocation's"
        )
    raise InputError(
        f"--by: {user.email} is {user.role}; only the route's volunteer, a coordinator "
        "or an admin may report a delivery"
    )


def _refuse(allocation_ref: str, current: str, new: str) -> ConflictError:
    return TransitionRefused(allocation_ref, current, new)


def check_actor(session: Session, actor: Actor, allocation: Allocation) -> None:
    """Refuse ``actor`` unless it may report on ``allocation``.

    A volunteer may report on the allocations of its own routes; a coordinator on
    those whose lot, request or volunteer belongs to its organization; an admin on
    any. Outside that scope the allocation is *not found* (its existence is not
    revealed); staff accounts report nothing (:class:`~engine.errors.Forbidden`).
    """
    require_role(actor, "volunteer", "coordinator")
    if actor.is_admin:
        return
    if actor.role == "volunteer":
        if actor.volunteer_id is not None and allocation.volunteer_id == actor.volunteer_id:
            return
        raise NotFound("no such allocation")
    orgs = {
        session.execute(
            select(SupplyLot.org_id).where(SupplyLot.id == allocation.lot_id)
        ).scalar_one(),
        session.execute(
            select(Request.org_id).where(Request.id == allocation.request_id)
        ).scalar_one(),
    }
    if allocation.volunteer_id is not None:
        orgs.add(
            session.execute(
                select(Volunteer.org_id).where(Volunteer.id == allocation.volunteer_id)
            ).scalar_one()
        )
    if actor.org_id not in orgs:
        raise NotFound("no such allocation")


def check_key(key: str | None) -> str | None:
    """``key`` stripped, or None; InputError unless it looks like a client's key."""
    if key is None:
        return None
    key = key.strip()
    if not key:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise InputError(
            f"idempotency key: 8 to 64 letters, digits, '-' or '_' (a UUID), got {key[:80]!r}"
        )
    return key


def _replay(
    session: Session, key: str, allocation: Allocation, new: str, user_id: int | None
) -> DeliveryResult | None:
    """The stored result of the report ``key`` on ``allocation``, or None if none is stored.

    A key stored for another allocation, move or account is refused: a client reused
    a key it should have made fresh, and answering with another report's result
    would hide that its own report was never applied.
    """
    stored = session.execute(
        select(Delivery).where(Delivery.idempotency_key == key)
    ).scalar_one_or_none()
    if stored is None:
        return None
    if stored.allocation_id != allocation.id or stored.kind != new or stored.by_user_id != user_id:
        raise KeyReused(
            "idempotency key: already used for another report; make a new key per report"
        )
    # Fresh reads (not the session's cached rows): in the race, the winner committed
    # after this session first loaded them.
    lot_org, lot_ref = session.execute(
        select(SupplyLot.org_id, SupplyLot.ref).where(SupplyLot.id == allocation.lot_id)
    ).one()
    request_org, request_ref, request_status = session.execute(
        select(Request.org_id, Request.ref, Request.status).where(
            Request.id == allocation.request_id
        )
    ).one()
    return DeliveryResult(
        f"{allocation.batch_id}/{allocation.plan_id}",
        stored.kind,
        _label(session, lot_org, lot_ref),
        _label(session, request_org, request_ref),
        request_status,
        allocation.quantity,
        allocation.id,
        replayed=True,
    )


def _parse_kind(kind: str, reason: str | None) -> tuple[str, str | None]:
    new = KINDS.get(kind)
    if new is None:
        raise InputError(f"delivery: expected picked-up, delivered or failed, got {kind!r}")
    reason = (reason or "").strip() or None
    if new == "failed" and reason is None:
        raise InputError("delivery failed: give the reason (--reason TEXT)")
    if reason is not None and len(reason) > MAX_REASON:
        raise InputError(f"--reason: at most {MAX_REASON} characters")
    return new, reason


def report_delivery(
    session: Session,
    allocation_ref: str,
    kind: str,
    actor: str | Actor,
    *,
    reason: str | None = None,
    by: str | None = None,
    idempotency_key: str | None = None,
) -> DeliveryResult:
    """Record that allocation ``allocation_ref`` (``BATCH/A17``) was picked up,
    delivered or failed (``kind``: ``picked-up``, ``delivered``, ``failed``).

    ``actor`` is the command line's actor (a label), used when ``by`` (a user's
    email) is not given; or a signed-in :class:`Actor`, checked by
    :func:`check_actor`. Updates the allocation, the lot's stock and the request's
    status (see the module docstring), adds a :class:`Delivery` row and one archive
    event per row changed. A repeated ``idempotency_key`` returns the first result
    and changes nothing. Does not commit. Raises InputError (exit 2: unknown
    allocation, user not allowed, missing reason), NotFound (an :class:`Actor`
    outside the allocation's scope) or ConflictError (exit 3: illegal move, the
    state changed under the report, a key reused for another report).
    """
    new, reason = _parse_kind(kind, reason)
    key = check_key(idempotency_key)
    batch, allocation = find_allocation(session, allocation_ref)
    if isinstance(actor, Actor):
        check_actor(session, actor, allocation)
        who, user_id = actor.label, actor.user_id
    else:
        reporter = check_reporter(session, by, allocation) if by else None
        who = reporter.email if reporter is not None else actor
        user_id = reporter.id if reporter is not None else None
    return _apply(session, batch, allocation, new, who, user_id, reason, key)


def mark_allocation(
    session: Session,
    actor: Actor,
    allocation_id: int,
    kind: str,
    *,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> DeliveryResult:
    """:func:`report_delivery` for a signed-in ``actor``, the allocation named by its id.

    An allocation that does not exist or that ``actor`` may not report on is
    :class:`~engine.errors.NotFound` alike.
    """
    new, reason = _parse_kind(kind, reason)
    key = check_key(idempotency_key)
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotFound("no such allocation")
    check_actor(session, actor, allocation)
    batch = session.get(Batch, allocation.batch_id)
    assert batch is not None
    return _apply(session, batch, allocation, new, actor.label, actor.user_id, reason, key)


def _apply(
    session: Session,
    batch: Batch,
    allocation: Allocation,
    new: str,
    who: str,
    user_id: int | None,
    reason: str | None,
    key: str | None,
) -> DeliveryResult:
    """Apply the move ``new`` to ``allocation`` (checked, once); see :func:`report_delivery`."""
    ref = f"{batch.id}/{allocation.plan_id}"
    if key is not None:
        replayed = _replay(session, key, allocation, new, user_id)
        if replayed is not None:
            return replayed
    if batch.status != "published":
        raise NotPublished(ref, batch.id, batch.status)
    current = allocation.status
    if not can_transition("allocations", current, new):
        raise _refuse(ref, current, new)
    now = utcnow()
    quantity = allocation.quantity

    # 1. The allocation: exactly one report moves it from `current`.
    moved = session.execute(
        update(Allocation)
        .where(Allocation.id == allocation.id, Allocation.status == current)
        .values(status=new, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        # Another report moved it first. If it was this same report (the key sent
        # twice at once), the winner has committed by now: answer as a replay.
        if key is not None:
            replayed = _replay(session, key, allocation, new, user_id)
            if replayed is not None:
                return replayed
        latest = session.execute(
            select(Allocation.status).where(Allocation.id == allocation.id)
        ).scalar_one()
        raise _refuse(ref, latest, new)

    # 2. The lot's stock.
    lot_before = lot_after = None
    if new in ("delivered", "failed"):
        values: dict[str, Any] = {
            "quantity_reserved": SupplyLot.quantity_reserved - quantity,
            "updated_at": now,
        }
        if new == "delivered":
            values["quantity_delivered"] = SupplyLot.quantity_delivered + quantity
        stock = session.execute(
            update(SupplyLot)
            .where(SupplyLot.id == allocation.lot_id, SupplyLot.quantity_reserved >= quantity)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if stock.rowcount != 1:
            # A published allocation not yet delivered or failed always holds its
            # reservation; if it does not, the stock was changed outside Jessr.
            raise ConflictError(
                f"allocation {ref}: its lot does not hold the {quantity} reserved units "
                "it should; nothing written, check the lot"
            )
        reserved, delivered = session.execute(
            select(SupplyLot.quantity_reserved, SupplyLot.quantity_delivered).where(
                SupplyLot.id == allocation.lot_id
            )
        ).one()
        lot_after = {"quantity_reserved": reserved, "quantity_delivered": delivered}
        lot_before = {
            "quantity_reserved": reserved + quantity,
            "quantity_delivered": delivered - (quantity if new == "delivered" else 0),
        }

    # 3. The request. Its row is locked (PostgreSQL) before its allocations are
    # counted, so two parts of one request delivered at once cannot both miss the
    # moment the last one lands; SQLite already serialises writers.
    request_status = session.execute(
        select(Request.status).where(Request.id == allocation.request_id).with_for_update()
    ).scalar_one()
    request_before = request_status
    target: str | None = None
    if new == "picked_up" and request_status == "allocated":
        target = "in_transit"
    elif new == "failed" and request_status in ("allocated", "in_transit"):
        target = "open"
    elif new == "delivered" and can_transition("requests", request_status, "delivered"):
        pending = session.execute(
            select(func.count())
            .select_from(Allocation)
            .join(Batch, Batch.id == Allocation.batch_id)
            .where(
                Allocation.request_id == allocation.request_id,
                Batch.status.in_(("published", "closed")),
                Allocation.status.not_in(("delivered", "cancelled")),
            )
        ).scalar_one()
        if pending == 0:
            target = "delivered"
    if target is not None and can_transition("requests", request_status, target):
        changes: dict[str, Any] = {"status": target, "updated_at": now}
        if target == "delivered":
            changes["closed_at"] = now
        session.execute(
            update(Request)
            .where(Request.id == allocation.request_id, Request.status == request_status)
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        request_status = target

    # 4. The report itself, then the archive (the chain head last).
    session.add(
        Delivery(
            allocation_id=allocation.id,
            kind=new,
            reason=reason,
            by_user_id=user_id,
            actor=who,
            idempotency_key=key,
            at=now,
        )
    )
    if key is not None:
        try:
            session.flush()
        except IntegrityError:
            # The key landed for another allocation at the same moment (the unique
            # index's last line of defence); nothing of this report stays.
            raise KeyReused(
                "idempotency key: already used for another report; make a new key per report"
            ) from None
    lot_row = session.get(SupplyLot, allocation.lot_id)
    request_row = session.get(Request, allocation.request_id)
    assert lot_row is not None and request_row is not None
    lot_label = _label(session, lot_row.org_id, lot_row.ref)
    request_label = _label(session, request_row.org_id, request_row.ref)
    context = {
        "allocation": ref,
        "batch": batch.id,
        "lot": lot_label,
        "request": request_label,
        "quantity": quantity,
    }
    audit.record(
        session,
        who,
        f"delivery.{new}",
        "allocation",
        allocation.id,
        before={"status": current},
        after={"status": new, "reason": reason, **context},
    )
    if lot_after is not None:
        audit.record(
            session,
            who,
            "lot.delivered" if new == "delivered" else "lot.released",
            "lot",
            allocation.lot_id,
            before=lot_before,
            after={**lot_after, "allocation": ref, "quantity": quantity},
        )
    if request_status != request_before:
        audit.record(
            session,
            who,
            f"request.{request_status}",
            "request",
            allocation.request_id,
            before={"status": request_before},
            after={"status": request_status, "allocation": ref, "reason": reason},
        )
    session.flush()
    return DeliveryResult(
        ref, new, lot_label, request_label, request_status, quantity, allocation.id
    )
