"""``jessr delivery``: each legal move and its effect on stock, request and archive;
each illegal move refused (exit 3) and each unknown or unauthorised report refused
(exit 2), nothing written."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from engine import audit
from engine.models import Allocation, AuditEvent, Delivery, Request, SupplyLot
from tests.platform.batch_factories import make_allocation, make_batch
from tests.platform.factories import make_lot, make_org, make_request, make_user, make_volunteer


@dataclass
class Day:
    batch: int
    draft: int
    lot: int
    requests: list[int]


@pytest.fixture
def day(database) -> Day:
    """crt: a lot of 10, a published batch with A1 (2 units, routed to V1), A2 (3 units,
    V1), A3 and A4 (one request split over two allocations); a draft with D1."""
    with database.session() as s:
        crt = make_org(s, "crt")
        other = make_org(s, "other", region="TN-42")
        lot = make_lot(s, crt, "L1", quantity=10)
        v1 = make_volunteer(s, crt, "V1")
        v2 = make_volunteer(s, crt, "V2")
        r1 = make_request(s, crt, "R1", quantity=2)
        r2 = make_request(s, crt, "R2", quantity=3)
        r3 = make_request(s, crt, "R3", quantity=2)
        r4 = make_request(s, crt, "R4")
        batch = make_batch(s)
        make_allocation(s, batch, "A1", lot, r1, 2, v1)
        make_allocation(s, batch, "A2", lot, r2, 3, v1)
        make_allocation(s, batch, "A3", lot, r3, 1, v2)
        make_allocation(s, batch, "A4", lot, r3, 1, v2)
        draft = make_batch(s, status="draft")
        make_allocation(s, draft, "D1", lot, r4, 1, v1)
        make_user(s, "v1@example.org", "volunteer", crt, volunteer_id=v1.id)
        make_user(s, "v2@example.org", "volunteer", crt, volunteer_id=v2.id)
        make_user(s, "coord@example.org", "coordinator", crt)
        make_user(s, "far@example.org", "coordinator", other)
        make_user(s, "staff@example.org", "staff", crt)
        make_user(s, "root@example.org", "admin")
        make_user(s, "gone@example.org", "coordinator", crt, active=False)
        s.commit()
        return Day(batch.id, draft.id, lot.id, [r1.id, r2.id, r3.id, r4.id])


def _state(database, day: Day):
    with database.session() as s:
        lot = s.get(SupplyLot, day.lot)
        allocations = dict(
            s.execute(select(Allocation.plan_id, Allocation.status).order_by(Allocation.id)).all()
        )
        requests = [s.get(Request, r).status for r in day.requests]
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        deliveries = s.execute(select(func.count()).select_from(Delivery)).scalar_one()
        return (
            (lot.quantity_reserved, lot.quantity_delivered),
            allocations,
            requests,
            events,
            (deliveries),
        )


def _ok(result):
    assert result.code == 0, (result.out, result.err)
    return result


def _refused(database, day, code, *args, words=()):
    before = _state(database, day)
    result = database.cli("delivery", *args)
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jessr: "), result.err
    for word in words:
        assert word in lines[0], lines[0]
    assert _state(database, day) == before  # nothing written
    return lines[0]


def test_picked_up_then_delivered_moves_stock_and_request(database, day):
    a1 = f"{day.batch}/A1"
    assert _state(database, day)[0] == (7, 0)
    out = _ok(database.cli("delivery", a1, "picked-up", "--by", "v1@example.org")).out
    assert "picked up" in out and "crt/L1" in out and "crt/R1" in out
    stock, allocations, requests, _, _ = _state(database, day)
    assert stock == (7, 0) and allocations["A1"] == "picked_up" and requests[0] == "in_transit"
    _ok(database.cli("delivery", a1, "delivered", "--by", "v1@example.org"))
    stock, allocations, requests, _, deliveries = _state(database, day)
    assert stock == (5, 2)
    assert allocations["A1"] == "delivered" and requests[0] == "delivered"
    assert deliveries == 2
    with database.session() as s:
        request = s.get(Request, day.requests[0])
        assert request.closed_at is not None
        rows = s.execute(select(Delivery).order_by(Delivery.id)).scalars().all()
        assert [(d.kind, d.actor) for d in rows] == [
            ("picked_up", "v1@example.org"),
            ("delivered", "v1@example.org"),
        ]
        assert all(d.by_user_id is not None for d in rows)
        actions = [
            (e.action, e.entity_type, e.actor)
            for e in s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        ][1:]
        assert actions == [
            ("delivery.picked_up", "allocation", "v1@example.org"),
            ("request.in_transit", "request", "v1@example.org"),
            ("delivery.delivered", "allocation", "v1@example.org"),
            ("lot.delivered", "lot", "v1@example.org"),
            ("request.delivered", "request", "v1@example.org"),
        ]
        lot_event = audit.events_of(s, "lot", day.lot)[0]
        assert json.loads(lot_event.before) == {"quantity_reserved": 7, "quantity_delivered": 0}
        assert json.loads(lot_event.after)["quantity_delivered"] == 2
        assert audit.verify(s).ok


def test_failed_releases_stock_and_reopens_the_request_with_its_history(database, day):
    a2 = f"{day.batch}/A2"
    _ok(database.cli("delivery", a2, "picked-up", "--by", "coord@example.org"))
    _refused(database, day, 2, a2, "failed", words=["reason"])
    out = _ok(database.cli("delivery", a2, "failed", "--reason", "nobody home")).out
    assert "failed" in out
    stock, allocations, requests, _, _ = _state(database, day)
    assert stock == (4, 0)
    assert allocations["A2"] == "failed" and requests[1] == "open"
    with database.session() as s:
        events = audit.events_of(s, "request", day.requests[1])
        assert [e.action for e in events] == ["request.in_transit", "request.open"]
        assert json.loads(events[-1].after)["reason"] == "nobody home"
        assert events[-1].actor == "test"  # the CLI's actor (JESSR_ACTOR) without --by
        failed = s.execute(select(Delivery).where(Delivery.kind == "failed")).scalar_one()
        assert failed.reason == "nobody home" and failed.by_user_id is None
        assert s.get(Request, day.requests[1]).closed_at is None
    # A planned allocation may fail too (never picked up).
    _ok(database.cli("delivery", f"{day.batch}/A1", "failed", "--reason", "road closed"))
    assert _state(database, day)[0] == (2, 0)


def test_a_split_request_is_delivered_when_its_last_part_is(database, day):
    for plan_id in ("A3", "A4"):
        _ok(
            database.cli(
                "delivery", f"{day.batch}/{plan_id}", "picked-up", "--by", "v2@example.org"
            )
        )
    _ok(database.cli("delivery", f"{day.batch}/A3", "delivered", "--by", "v2@example.org"))
    assert _state(database, day)[2][2] == "in_transit"
    _ok(database.cli("delivery", f"{day.batch}/A4", "delivered", "--by", "v2@example.org"))
    assert _state(database, day)[2][2] == "delivered"
    assert _state(database, day)[0] == (5, 2)


def test_illegal_moves_exit_3_and_write_nothing(database, day):
    a1 = f"{day.batch}/A1"
    _refused(database, day, 3, a1, "delivered", words=["A1", "planned"])  # before pickup
    _ok(database.cli("delivery", a1, "picked-up"))
    _refused(database, day, 3, a1, "picked-up", words=["picked up"])  # twice picked up
    _ok(database.cli("delivery", a1, "delivered"))
    _refused(database, day, 3, a1, "delivered", words=["delivered"])  # twice delivered
    _refused(database, day, 3, a1, "failed", "--reason", "x")  # delivered, then failed
    _refused(database, day, 3, f"{day.draft}/D1", "picked-up", words=["draft"])
    _ok(database.cli("delivery", f"{day.batch}/A2", "failed", "--reason", "flat tyre"))
    _refused(database, day, 3, f"{day.batch}/A2", "picked-up", words=["failed"])


def test_unknown_allocations_and_bad_arguments_exit_2(database, day):
    _refused(database, day, 2, "A1", "picked-up", words=["BATCH_ID/PLAN_ID"])
    _refused(database, day, 2, "999/A1", "picked-up", words=["no batch 999"])
    _refused(database, day, 2, f"{day.batch}/A99", "picked-up", words=["A99"])
    _refused(database, day, 2, f"{day.batch}/A1", "lost")


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("v1@example.org", True),  # holds A1's route
        ("v2@example.org", False),  # another route
        ("coord@example.org", True),  # coordinator of crt
        ("root@example.org", True),  # platform admin
        ("far@example.org", False),  # coordinator of another organization
        ("staff@example.org", False),  # staff may not report
        ("gone@example.org", False),  # inactive
        ("nobody@example.org", False),  # no such user
    ],
)
def test_who_may_report(database, day, email, allowed):
    args = (f"{day.batch}/A1", "picked-up", "--by", email)
    if allowed:
        _ok(database.cli("delivery", *args))
        with database.session() as s:
            assert s.execute(select(Delivery.actor)).scalar_one() == email
    else:
        _refused(database, day, 2, *args, words=["--by"])
