"""Status transitions: every legal move allowed, illegal ones refused in one place."""

from __future__ import annotations

import pytest

from engine.errors import ConflictError
from engine.models import Allocation, Batch, Request
from engine.models.batches import ALLOCATION_STATUSES, BATCH_STATUSES
from engine.models.requests import REQUEST_STATUSES
from engine.status import (
    ALLOCATION_TRANSITIONS,
    BATCH_TRANSITIONS,
    REQUEST_TRANSITIONS,
    can_transition,
    transition,
)

LEGAL = {
    Request: [
        ("open", "allocated"),
        ("open", "cancelled"),
        ("allocated", "in_transit"),
        ("allocated", "open"),
        ("allocated", "failed"),
        ("allocated", "cancelled"),
        ("in_transit", "delivered"),
        ("in_transit", "open"),
        ("in_transit", "failed"),
        ("failed", "open"),
        ("failed", "cancelled"),
    ],
    Batch: [
        ("draft", "published"),
        ("draft", "superseded"),
        ("published", "closed"),
    ],
    Allocation: [
        ("planned", "picked_up"),
        ("planned", "failed"),
        ("planned", "cancelled"),
        ("picked_up", "delivered"),
        ("picked_up", "failed"),
    ],
}
ILLEGAL = {
    Request: [
        ("open", "delivered"),
        ("open", "in_transit"),
        ("delivered", "open"),
        ("delivered", "delivered"),
        ("cancelled", "open"),
        ("in_transit", "cancelled"),
    ],
    Batch: [
        ("published", "draft"),
        ("published", "superseded"),
        ("superseded", "published"),
        ("closed", "published"),
        ("draft", "closed"),
        ("draft", "draft"),
    ],
    Allocation: [
        ("planned", "delivered"),  # delivered before picked up
        ("delivered", "delivered"),  # twice delivered
        ("delivered", "failed"),
        ("failed", "picked_up"),
        ("cancelled", "planned"),
        ("picked_up", "cancelled"),
    ],
}


def _case(model, current):
    if model is Request:
        return Request(ref="R1", status=current)
    if model is Batch:
        return Batch(id=7, status=current)
    return Allocation(plan_id="A17", status=current)


@pytest.mark.parametrize(
    ("model", "current", "new"),
    [(m, a, b) for m, moves in LEGAL.items() for a, b in moves],
)
def test_legal_transition(model, current, new):
    obj = _case(model, current)
    assert transition(obj, new) == current
    assert obj.status == new


@pytest.mark.parametrize(
    ("model", "current", "new"),
    [(m, a, b) for m, moves in ILLEGAL.items() for a, b in moves],
)
def test_illegal_transition_is_a_conflict(model, current, new):
    obj = _case(model, current)
    with pytest.raises(ConflictError) as caught:
        transition(obj, new)
    assert obj.status == current
    assert current.replace("_", " ") in str(caught.value)


def test_the_tables_list_exactly_the_legal_moves_and_cover_every_status():
    for model, table, statuses in [
        (Request, REQUEST_TRANSITIONS, REQUEST_STATUSES),
        (Batch, BATCH_TRANSITIONS, BATCH_STATUSES),
        (Allocation, ALLOCATION_TRANSITIONS, ALLOCATION_STATUSES),
    ]:
        assert set(table) == set(statuses)
        moves = {(a, b) for a, targets in table.items() for b in targets}
        assert moves == set(LEGAL[model])
        for a in statuses:
            assert not can_transition(model.__tablename__, a, a)


def test_an_unknown_status_is_a_programming_error():
    with pytest.raises(ValueError, match="not a request status"):
        transition(Request(ref="R1", status="open"), "lost")


def test_the_conflict_names_the_record():
    with pytest.raises(ConflictError, match="allocation A17 is delivered"):
        transition(Allocation(plan_id="A17", status="delivered"), "delivered")
