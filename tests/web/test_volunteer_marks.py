"""``POST /volunteer/marks``: a volunteer's picked up / delivered / failed marks, applied
once per idempotency key, only on their own route, refused when the status does not
allow them; the same service behind the page's plain forms (no JavaScript)."""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine import audit, deliveries
from engine.models import Allocation, AuditEvent, Delivery
from engine.models import Request as RequestRow
from tests.platform.conftest import TestDatabase
from tests.web.conftest import make_app, sign_in
from tests.web.volunteer_support import (
    ROUTE,
    allocations_of,
    assert_no_household_data,
    household_phones,
    household_secrets,
)
from tests.web.world import World


def _mark(client: Any, allocation: int, kind: str, key: str | None = None, **extra: Any) -> Any:
    body = {"allocation": allocation, "kind": kind, "idempotency_key": key or str(uuid.uuid4())}
    return client.post("/volunteer/marks", json={**body, **extra})


def _count(database: TestDatabase, model: Any, *where: Any) -> int:
    with database.session() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _events(database: TestDatabase, action: str, allocation: int) -> int:
    return _count(
        database,
        AuditEvent,
        AuditEvent.action == action,
        AuditEvent.entity_id == str(allocation),
    )


def _status(database: TestDatabase, allocation: int) -> str:
    with database.session() as s:
        return s.get(Allocation, allocation).status


def test_a_mark_moves_the_allocation_and_is_archived_as_the_volunteer(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    key = str(uuid.uuid4())
    response = _mark(client, allocation, "picked_up", key)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] and body["status"] == "picked_up" and body["replayed"] is False
    assert body["status_label"] == "picked up"
    delivered = _mark(client, allocation, "delivered")
    assert delivered.get_json()["status"] == "delivered"
    assert _status(web_db, allocation) == "delivered"
    with web_db.session() as s:
        rows = s.execute(select(Delivery).order_by(Delivery.id)).scalars().all()
        email = world.email("volunteer")
        assert [(d.kind, d.actor) for d in rows] == [
            ("picked_up", email),
            ("delivered", email),
        ]
        assert rows[0].idempotency_key == key and rows[0].by_user_id is not None
        request = s.get(RequestRow, s.get(Allocation, allocation).request_id)
        assert request.status == "delivered"
        assert audit.verify(s).ok
    assert _events(web_db, "delivery.picked_up", allocation) == 1
    assert _events(web_db, "delivery.delivered", allocation) == 1


def test_the_same_key_twice_is_one_mark(signed_in: Any, web_db: TestDatabase, world: World) -> None:
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    key = str(uuid.uuid4())
    first = _mark(client, allocation, "picked_up", key).get_json()
    again = _mark(client, allocation, "picked_up", key)
    assert again.status_code == 200
    assert again.get_json()["replayed"] is True
    assert again.get_json()["status"] == first["status"] == "picked_up"
    assert _count(web_db, Delivery, Delivery.allocation_id == allocation) == 1
    assert _events(web_db, "delivery.picked_up", allocation) == 1
    # After the next move the key still answers its own (first) result.
    _mark(client, allocation, "delivered")
    late = _mark(client, allocation, "picked_up", key).get_json()
    assert late["replayed"] is True and late["status"] == "picked_up"
    assert _count(web_db, Delivery, Delivery.allocation_id == allocation) == 2


def test_a_key_reused_for_another_mark_is_refused(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    first, second = (a.id for a in allocations_of(web_db, world)[:2])
    client = signed_in("volunteer")
    key = str(uuid.uuid4())
    assert _mark(client, first, "picked_up", key).status_code == 200
    reused = _mark(client, second, "picked_up", key)
    assert reused.status_code == 409
    assert _status(web_db, second) == "planned"
    assert _mark(client, first, "failed", key, reason="vehicle").status_code == 409


@pytest.mark.parametrize(
    ("setup", "kind", "message", "status"),
    [
        ((), "delivered", "Mark it picked up first.", "planned"),
        (
            ("picked_up",),
            "picked_up",
            "It is already picked up; it cannot be marked picked up.",
            "picked_up",
        ),
        (
            ("picked_up", "delivered"),
            "failed",
            "It is already delivered; it cannot be marked failed.",
            "delivered",
        ),
    ],
)
def test_illegal_moves_answer_409_with_a_message_and_change_nothing(
    signed_in: Any,
    web_db: TestDatabase,
    world: World,
    setup: tuple[str, ...],
    kind: str,
    message: str,
    status: str,
) -> None:
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    for step in setup:
        assert _mark(client, allocation, step).status_code == 200
    rows = _count(web_db, Delivery)
    refused = _mark(client, allocation, kind, reason="nobody_home")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body == {"ok": False, "message": message, "status": status}
    assert _status(web_db, allocation) == status
    assert _count(web_db, Delivery) == rows


def test_another_volunteers_allocation_is_not_found(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    theirs = world.ids["other"]["allocation_id"]
    client = signed_in("volunteer")
    response = _mark(client, theirs, "picked_up")
    assert response.status_code == 404
    assert response.get_json()["ok"] is False
    assert _status(web_db, theirs) == "planned"
    assert _mark(client, 999_999, "picked_up").status_code == 404
    form = client.post(
        "/volunteer/marks",
        data={"allocation": theirs, "kind": "picked_up", "idempotency_key": str(uuid.uuid4())},
    )
    assert form.status_code == 404
    assert _count(web_db, Delivery) == 0


def test_bad_fields_are_400_and_failed_needs_a_reason(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    assert _mark(client, allocation, "lost").status_code == 400
    assert _mark(client, allocation, "picked_up", key="short").status_code == 400
    assert client.post("/volunteer/marks", json=[1, 2]).status_code == 400
    assert client.post("/volunteer/marks", json={"allocation": None}).status_code == 400
    no_reason = _mark(client, allocation, "failed")
    assert no_reason.status_code == 400
    assert "Choose why it failed." in no_reason.get_json()["message"]
    other = _mark(client, allocation, "failed", reason="other")
    assert "Write the reason." in other.get_json()["message"]
    assert _count(web_db, Delivery) == 0
    done = _mark(client, allocation, "failed", reason="nobody_home", note="  rang twice  ")
    assert done.status_code == 200 and done.get_json()["status"] == "failed"
    with web_db.session() as s:
        assert s.execute(select(Delivery.reason)).scalar_one() == "nobody_home: rang twice"


def test_the_page_without_javascript_posts_forms_and_is_redirected_back(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    html = client.get(ROUTE).get_data(as_text=True)
    form = re.search(
        rf'<li class="item item-pickup" id="item-pickup-{allocation}".*?<form (.*?)</form>',
        html,
        re.S,
    )
    assert form
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    assert fields["kind"] == "picked_up" and fields["allocation"] == str(allocation)
    response = client.post("/volunteer/marks", data=fields)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{ROUTE}#item-pickup-{allocation}")
    assert _status(web_db, allocation) == "picked_up"
    # The same rendered form submitted twice (a double tap): one mark.
    again = client.post("/volunteer/marks", data=fields)
    assert again.status_code == 302
    assert _count(web_db, Delivery) == 1
    page = client.get(ROUTE).get_data(as_text=True)
    assert "Saved: picked up." in page
    # A refused form: redirected back with the reason, nothing written.
    fields["idempotency_key"] = str(uuid.uuid4())
    refused = client.post("/volunteer/marks", data=fields, follow_redirects=True)
    assert "It is already picked up" in refused.get_data(as_text=True)
    assert _count(web_db, Delivery) == 1


def test_marks_need_the_csrf_token(csrf_app: Flask, world: World, web_db: TestDatabase) -> None:
    client = csrf_app.test_client()
    sign_in(client, world.email("volunteer"))
    allocation = world.ids["own"]["allocation_id"]
    body = {"allocation": allocation, "kind": "picked_up", "idempotency_key": str(uuid.uuid4())}
    assert client.post("/volunteer/marks", json=body).status_code == 400
    html = client.get(ROUTE).get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    ok = client.post("/volunteer/marks", json=body, headers={"X-CSRFToken": token})
    assert ok.status_code == 200
    assert _status(web_db, allocation) == "picked_up"


def test_mark_answers_carry_no_household_data(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    secrets = household_secrets(web_db) + household_phones(web_db)
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    for response in (
        _mark(client, allocation, "picked_up"),
        _mark(client, allocation, "picked_up"),
        _mark(client, world.ids["other"]["allocation_id"], "picked_up"),
    ):
        assert_no_household_data(response.get_data(as_text=True), secrets)


def _race(app: Flask, email: str, allocation: int, monkeypatch: Any) -> list[Any]:
    """Two identical marks (same key) posted at once from two threads; both pass the
    key look-up before either writes (a barrier holds them there)."""
    barrier = threading.Barrier(2, timeout=30)
    original = deliveries._replay
    calls = threading.local()
    looked_up: list[bool] = []

    def held(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        looked_up.append(found is not None)
        if not getattr(calls, "done", False):
            calls.done = True
            barrier.wait()
        return found

    monkeypatch.setattr(deliveries, "_replay", held)
    key = str(uuid.uuid4())
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        sign_in(client, email)
    answers: list[Any] = [None, None]

    def post(n: int) -> None:
        response = _mark(clients[n], allocation, "picked_up", key)
        answers[n] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Both looked the key up before either wrote it; the loser found the winner's
    # key after its conditional UPDATE changed nothing (the race path, not a replay).
    assert looked_up == [False, False, True], looked_up
    return answers


def _check_race(answers: list[Any], database: TestDatabase, allocation: int) -> None:
    assert [code for code, _ in answers] == [200, 200], answers
    assert sorted(body["replayed"] for _, body in answers) == [False, True]
    assert {body["status"] for _, body in answers} == {"picked_up"}
    assert _count(database, Delivery, Delivery.allocation_id == allocation) == 1
    assert _events(database, "delivery.picked_up", allocation) == 1
    with database.session() as s:
        assert audit.verify(s).ok


def test_two_identical_marks_at_once_are_one_mark_sqlite(
    app: Flask, web_db: TestDatabase, world: World, monkeypatch: Any
) -> None:
    allocation = world.ids["own"]["allocation_id"]
    answers = _race(app, world.email("volunteer"), allocation, monkeypatch)
    _check_race(answers, web_db, allocation)


def test_two_identical_marks_at_once_are_one_mark_postgresql(
    pg_world: tuple[TestDatabase, World], monkeypatch: Any
) -> None:
    database, world = pg_world
    application = make_app(database)
    try:
        allocation = world.ids["own"]["allocation_id"]
        answers = _race(application, world.email("volunteer"), allocation, monkeypatch)
        _check_race(answers, database, allocation)
    finally:
        application.extensions["jessr.database"].close()
