"""The legal status transitions of requests, batches and allocations, in one place.

Every status change goes through :func:`transition`, which refuses an illegal one
with :class:`~engine.errors.ConflictError` (exit 3). A status never "changes" to
itself: delivering a delivered allocation is refused like any illegal move.

Requests: ``open → allocated`` (a published batch reserved stock for it) ``→
in_transit`` (picked up) ``→ delivered``; a failed delivery or a released
allocation returns it to ``open`` (``allocated/in_transit → open``), ``failed``
marks a request given up on the road and can be reopened; ``open``,
``allocated`` and ``failed`` requests can be ``cancelled``.

Batches: ``draft → published → closed``; a draft is ``superseded`` by a newer
draft of its date. Published batches stay (a later batch plans what is still open).

Allocations: ``planned → picked_up → delivered``; ``planned`` or ``picked_up →
failed``; ``planned → cancelled`` (its batch superseded, or released unrouted).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from engine.errors import ConflictError


def _table(moves: dict[str, tuple[str, ...]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({k: frozenset(v) for k, v in moves.items()})


REQUEST_TRANSITIONS = _table(
    {
        "open": ("allocated", "cancelled"),
        "allocated": ("in_transit", "open", "failed", "cancelled"),
        "in_transit": ("delivered", "open", "failed"),
        "failed": ("open", "cancelled"),
        "delivered": (),
        "cancelled": (),
    }
)
BATCH_TRANSITIONS = _table(
    {
        "draft": ("published", "superseded"),
        "published": ("closed",),
        "closed": (),
        "superseded": (),
    }
)
ALLOCATION_TRANSITIONS = _table(
    {
        "planned": ("picked_up", "failed", "cancelled"),
        "picked_up": ("delivered", "failed"),
        "delivered": (),
        "failed": (),
        "cancelled": (),
    }
)

# Table name -> its transitions (the models' ``__tablename__``).
TRANSITIONS: Mapping[str, Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "requests": REQUEST_TRANSITIONS,
        "batches": BATCH_TRANSITIONS,
        "allocations": ALLOCATION_TRANSITIONS,
    }
)
_NAMES = {"requests": "request", "batches": "batch", "allocations": "allocation"}


class HasStatus(Protocol):
    """A model row with a ``status`` (Request, Batch, Allocation)."""

    __tablename__: str
    status: str


def can_transition(kind: str, current: str, new: str) -> bool:
    """True when ``kind`` (a table name) allows ``current → new``."""
    return new in TRANSITIONS[kind].get(current, frozenset())


def transition(obj: HasStatus, new_status: str) -> str:
    """Set ``obj.status`` to ``new_status`` if legal, else raise ConflictError.

    Returns the previous status (for the audit event's ``before``). The caller
    archives the change; stock and related rows are the caller's to update.
    """
    kind = obj.__tablename__
    table = TRANSITIONS.get(kind)
    if table is None:
        raise TypeError(f"{type(obj).__name__} has no status transitions")
    if new_status not in table:
        raise ValueError(f"{new_status!r} is not a {_NAMES[kind]} status")
    current = obj.status
    if not can_transition(kind, current, new_status):
        # Name the record as its users know it: a request's ref, an allocation's plan id.
        label = getattr(obj, "ref", None) or getattr(obj, "plan_id", None)
        label = label or getattr(obj, "id", "?")
        raise ConflictError(
            f"{_NAMES[kind]} {label} is {current.replace('_', ' ')}: "
            f"it cannot become {new_status.replace('_', ' ')}"
        )
    obj.status = new_status
    return current
