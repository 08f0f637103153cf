"""``POST /api/v1/deliveries`` over ``engine.deliveries.mark_allocation``: a report by
the route's volunteer, a coordinator of the allocation's organizations or an admin;
idempotency keys; the moves the engine refuses (409); another's allocation (404)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import Allocation, AuditEvent, Delivery, Request, SupplyLot
from tests.platform.conftest import TestDatabase
from tests.web.conftest import make_app, sign_in
from tests.web.world import World


def _report(client: Any, allocation: str | int, kind: str, **extra: Any) -> Any:
    key = "allocation_id" if isinstance(allocation, int) else "allocation"
    return client.post("/api/v1/deliveries", json={key: allocation, "kind": kind, **extra})


def _deliveries(db: TestDatabase) -> list[Delivery]:
    with db.session() as s:
        return list(s.execute(select(Delivery).order_by(Delivery.id)).scalars())


def _extra_allocation(db: TestDatabase, batch_id: int, volunteer_id: int) -> str:
    """An allocation of crt's second lot and request on ``volunteer_id``'s route in
    ``batch_id`` (the world's plans give crt's second volunteer none)."""
    with db.session() as s:
        lot = s.execute(select(SupplyLot).where(SupplyLot.ref == "L2", SupplyLot.org_id == 1))
        request = s.execute(select(Request).where(Request.ref == "R2", Request.org_id == 1))
        row = Allocation(
            batch_id=batch_id,
            plan_id="X1",
            lot_id=lot.scalar_one().id,
            request_id=request.scalar_one().id,
            quantity=1,
            volunteer_id=volunteer_id,
            status="planned",
        )
        s.add(row)
        s.commit()
    return f"{batch_id}/X1"


def test_the_volunteer_reports_its_route(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    client = signed_in("volunteer")
    ref = world.ids["own"]["allocation_ref"]
    picked = _report(client, ref, "picked_up")
    assert picked.status_code == 201, picked.get_json()
    body = picked.get_json()
    assert (body["allocation"], body["status"], body["request_status"]) == (
        ref,
        "picked_up",
        "in_transit",
    )
    assert body["replayed"] is False and body["allocation_id"] == world.ids["own"]["allocation_id"]
    delivered = _report(client, world.ids["own"]["allocation_id"], "delivered")
    assert delivered.status_code == 201
    assert delivered.get_json()["request_status"] == "delivered"
    rows = _deliveries(web_db)
    assert [(d.kind, d.actor) for d in rows] == [
        ("picked_up", "volunteer@crt.example.org"),
        ("delivered", "volunteer@crt.example.org"),
    ]
    with web_db.session() as s:
        actions = list(
            s.execute(
                select(AuditEvent.action).where(AuditEvent.actor == "volunteer@crt.example.org")
            ).scalars()
        )
    assert "delivery.picked_up" in actions and "delivery.delivered" in actions


def test_a_failure_needs_a_reason_and_reopens_the_request(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    client = signed_in("volunteer")
    ref = world.ids["own"]["allocation_ref"]
    missing = _report(client, ref, "failed")
    assert missing.status_code == 422
    assert missing.get_json()["errors"]["json"] == {"reason": ["required when kind is failed"]}
    assert _report(client, ref, "failed", reason="   ").status_code == 422
    failed = _report(client, ref, "failed", reason="nobody home")
    assert failed.status_code == 201
    assert failed.get_json()["request_status"] == "open"
    with web_db.session() as s:
        assert s.execute(select(Delivery.reason)).scalar_one() == "nobody home"


def test_illegal_moves_are_conflicts(signed_in: Any, world: World) -> None:
    client = signed_in("volunteer")
    ref = world.ids["own"]["allocation_ref"]
    early = _report(client, ref, "delivered")
    assert early.status_code == 409
    assert "cannot become delivered" in early.get_json()["detail"]
    assert _report(client, ref, "picked_up").status_code == 201
    assert _report(client, ref, "picked_up").status_code == 409


def test_another_volunteers_allocation_is_not_found(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    client = signed_in("volunteer")
    other_org = _report(client, world.ids["other"]["allocation_ref"], "picked_up")
    assert other_org.status_code == 404
    colleague = _extra_allocation(web_db, world.published_batch, volunteer_id=2)  # crt/V2
    assert _report(client, colleague, "picked_up").status_code == 404
    assert _report(client, "999/A1", "picked_up").status_code == 404
    assert _report(client, 999_999, "picked_up").status_code == 404
    assert _deliveries(web_db) == []


def test_an_unpublished_allocation_is_a_conflict(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    ref = _extra_allocation(
        web_db, world.draft_batch, volunteer_id=world.ids["own"]["volunteer_id"]
    )
    for role in ("volunteer", "coordinator"):
        response = _report(signed_in(role), ref, "picked_up")
        assert response.status_code == 409, role
        assert "not published" in response.get_json()["detail"]


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_report_for_their_organization(
    signed_in: Any, world: World, role: str
) -> None:
    response = _report(signed_in(role), world.ids["own"]["allocation_ref"], "picked_up")
    assert response.status_code == 201
    other = _report(signed_in(role), world.ids["other"]["allocation_ref"], "picked_up")
    assert other.status_code == (404 if role == "coordinator" else 201)


def test_staff_may_not_report(signed_in: Any, world: World) -> None:
    response = _report(signed_in("staff"), world.ids["own"]["allocation_ref"], "picked_up")
    assert response.status_code == 403


def test_the_body_names_one_allocation(signed_in: Any, world: World) -> None:
    client = signed_in("volunteer")
    both = client.post(
        "/api/v1/deliveries",
        json={"allocation": "1/A1", "allocation_id": 1, "kind": "picked_up"},
    )
    assert both.status_code == 422 and "allocation" in both.get_json()["errors"]["json"]
    neither = client.post("/api/v1/deliveries", json={"kind": "picked_up"})
    assert neither.status_code == 422
    for bad in ("1-A1", "²/A1", "1/A 1", "/A1", "1/"):
        response = _report(client, bad, "picked_up")
        assert response.status_code == 422, bad
    assert _report(client, "1/A1", "lost").status_code == 422
    assert _report(client, 0, "picked_up").status_code == 422
    for key in ("short", "has space-in-it", "x" * 65):
        response = _report(client, "1/A1", "picked_up", idempotency_key=key)
        assert response.status_code == 422, key
        assert "idempotency_key" in response.get_json()["errors"]["json"]


def test_an_idempotency_key_makes_a_retry_safe(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    client = signed_in("volunteer")
    ref = world.ids["own"]["allocation_ref"]
    first = _report(client, ref, "picked_up", idempotency_key="phone-1-0001")
    assert first.status_code == 201
    again = _report(client, ref, "picked_up", idempotency_key="phone-1-0001")
    assert again.status_code == 200
    replay = again.get_json()
    assert replay["replayed"] is True
    assert {**replay, "replayed": False} == first.get_json()
    rows = _deliveries(web_db)
    assert len(rows) == 1 and rows[0].idempotency_key == "phone-1-0001"
    # the same key on another report is a conflict; a new key is a new report
    reused = _report(client, ref, "delivered", idempotency_key="phone-1-0001")
    assert reused.status_code == 409 and "idempotency key" in reused.get_json()["detail"]
    assert _report(client, ref, "delivered", idempotency_key="phone-1-0002").status_code == 201
    # and after delivery, the first report's retry is still acknowledged
    assert _report(client, ref, "picked_up", idempotency_key="phone-1-0001").status_code == 200


def test_a_key_is_not_shared_across_volunteers(signed_in: Any, world: World) -> None:
    mine = _report(
        signed_in("volunteer"), world.ids["own"]["allocation_ref"], "picked_up",
        idempotency_key="same-key-1",
    )  # fmt: skip
    assert mine.status_code == 201
    theirs = _report(
        signed_in("volunteer", "other"), world.ids["other"]["allocation_ref"], "picked_up",
        idempotency_key="same-key-1",
    )  # fmt: skip
    assert theirs.status_code == 409


def test_reports_on_postgresql(pg_world: tuple[TestDatabase, World]) -> None:
    """The key journey on PostgreSQL: a request registered, a route reported on
    with a retried key, the other organization's allocation refused."""
    database, world = pg_world
    app = make_app(database)
    try:
        staff, volunteer = app.test_client(), app.test_client()
        sign_in(staff, world.email("staff"))
        sign_in(volunteer, world.email("volunteer"))
        created = staff.post(
            "/api/v1/requests",
            json={"ref": "PG-1", "household": "77 000 111", "category": "food.oil",
                  "quantity": 1, "priority": 1, "region": "TN-11", "lat": 36.8, "lon": 10.2},
        )  # fmt: skip
        assert created.status_code == 201, created.get_json()
        assert staff.post("/api/v1/requests", json={"ref": "PG-1"}).status_code == 422
        ref = world.ids["own"]["allocation_ref"]
        for expected in (201, 200):
            answer = _report(volunteer, ref, "picked_up", idempotency_key="pg-key-0001")
            assert answer.status_code == expected
        assert _report(volunteer, world.ids["other"]["allocation_ref"], "failed",
                       reason="x").status_code == 404  # fmt: skip
        with database.session() as s:
            assert s.execute(select(func.count()).select_from(Delivery)).scalar_one() == 1
    finally:
        app.extensions["jessr.database"].close()


def test_a_report_sent_twice_at_once_is_applied_once_on_postgresql(
    pg_world: tuple[TestDatabase, World],
) -> None:
    """A phone resending a report while the first is still in flight: one report is
    stored, the other answer acknowledges it (200) — or, without a key, is a 409."""
    import threading

    database, world = pg_world
    app = make_app(database)
    try:
        clients = []
        for _ in range(3):
            client = app.test_client()
            sign_in(client, world.email("volunteer"))
            clients.append(client)
        barrier = threading.Barrier(len(clients))
        codes: list[int] = []
        ref = world.ids["own"]["allocation_ref"]

        def send(client: Any) -> None:
            barrier.wait()
            answer = _report(client, ref, "picked_up", idempotency_key="twice-at-once")
            codes.append(answer.status_code)

        threads = [threading.Thread(target=send, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [200, 200, 201], codes
        with database.session() as s:
            assert s.execute(select(func.count()).select_from(Delivery)).scalar_one() == 1
    finally:
        app.extensions["jessr.database"].close()
