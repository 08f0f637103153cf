"""``POST /volunteer/reveal/<allocation_id>``: a household's phone and address, for the
volunteer carrying its delivery, inside the contact window, each reveal archived."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from engine.models import Allocation, AuditEvent
from engine.models import Request as RequestRow
from tests.platform.conftest import TestDatabase
from tests.web.volunteer_support import (
    ROUTE,
    assert_no_household_data,
    household_secrets,
    open_window,
)
from tests.web.world import World

JSON = {"Accept": "application/json"}


def _reveals(database: TestDatabase) -> list[AuditEvent]:
    with database.session() as s:
        return list(
            s.execute(select(AuditEvent).where(AuditEvent.action == "household.reveal")).scalars()
        )


def _request_of(database: TestDatabase, allocation: int) -> RequestRow:
    with database.session() as s:
        return s.get(RequestRow, s.get(Allocation, allocation).request_id)


def test_the_carrying_volunteer_sees_the_contact_and_the_reveal_is_archived(
    signed_in: Any, web_db: TestDatabase, world: World, monkeypatch: Any
) -> None:
    open_window(web_db, world, monkeypatch)
    allocation = world.ids["own"]["allocation_id"]
    with web_db.session() as s:
        request = s.get(RequestRow, s.get(Allocation, allocation).request_id)
        request.address = "12 rue de la Liberté, Tunis"
        s.commit()
        phone = request.phone
    client = signed_in("volunteer")
    client.get(ROUTE)
    assert _reveals(web_db) == []  # opening the route reveals nothing

    response = client.post(f"/volunteer/reveal/{allocation}", headers=JSON)
    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "allocation": allocation,
        "phone": phone,
        "address": "12 rue de la Liberté, Tunis",
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert_no_household_data(response.get_data(as_text=True), household_secrets(web_db))

    (event,) = _reveals(web_db)
    assert event.actor == world.email("volunteer")
    assert (event.entity_type, event.entity_id) == ("request", str(request.id))
    archived = (event.before or "") + (event.after or "")
    assert phone not in archived and "Liberté" not in archived
    assert json.loads(event.after)["fields"] == ["phone", "address"]
    assert event.personal is None

    page = client.post(f"/volunteer/reveal/{allocation}")  # the page without JavaScript
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="tel:{phone.replace(" ", "")}"' in html and "Liberté" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert len(_reveals(web_db)) == 2  # every reveal is one event


def test_another_volunteers_delivery_is_not_found(
    signed_in: Any, web_db: TestDatabase, world: World, monkeypatch: Any
) -> None:
    open_window(web_db, world, monkeypatch)
    theirs = world.ids["other"]["allocation_id"]
    client = signed_in("volunteer")
    response = client.post(f"/volunteer/reveal/{theirs}", headers=JSON)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert _request_of(web_db, theirs).phone not in body
    assert client.post(f"/volunteer/reveal/{theirs}").status_code == 404
    assert client.post("/volunteer/reveal/999999", headers=JSON).status_code == 404
    assert _reveals(web_db) == []


def test_outside_the_window_the_contact_is_refused(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    # The world's batch was published (real clock) after its day: the window is shut.
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    response = client.post(f"/volunteer/reveal/{allocation}", headers=JSON)
    assert response.status_code == 409
    assert "one day after the delivery" in response.get_json()["message"]
    assert _request_of(web_db, allocation).phone not in response.get_data(as_text=True)
    html = client.post(f"/volunteer/reveal/{allocation}")
    assert html.status_code == 409
    assert _reveals(web_db) == []


def test_a_reveal_is_never_a_get(signed_in: Any, world: World) -> None:
    allocation = world.ids["own"]["allocation_id"]
    response = signed_in("volunteer").get(f"/volunteer/reveal/{allocation}")
    assert response.status_code == 405


def test_only_volunteers_reveal(signed_in: Any, web_db: TestDatabase, world: World) -> None:
    allocation = world.ids["own"]["allocation_id"]
    for role in ("staff", "coordinator", "admin"):
        response = signed_in(role).post(f"/volunteer/reveal/{allocation}", headers=JSON)
        assert response.status_code == 403, role
    with web_db.session() as s:
        count = s.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "household.reveal")
        ).scalar_one()
    assert count == 0
