"""``/volunteer/availability``: the next 14 days with a checkbox each; saving changes
the volunteer's ``days``, is archived, and the next snapshot honours it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from engine.models import AuditEvent, Volunteer
from engine.snapshot import snapshot
from tests.platform.conftest import TestDatabase
from tests.web.conftest import sign_in
from tests.web.world import World

URL = "/volunteer/availability"


def _boxes(html: str) -> dict[str, bool]:
    return {
        m.group(2): m.group(3) is not None
        for m in re.finditer(
            r'<input type="checkbox" id="day-([\d-]+)" name="days" value="([\d-]+)"( checked)?>',
            html,
        )
    }


def test_the_next_fortnight_is_shown_ticked_by_the_rule(signed_in: Any) -> None:
    html = signed_in("volunteer").get(URL).get_data(as_text=True)
    boxes = _boxes(html)
    today = date.today()
    assert list(boxes) == [(today + timedelta(days=n)).isoformat() for n in range(14)]
    assert all(boxes.values())  # the world's volunteers drive every day


def test_saving_updates_days_and_the_next_snapshot(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    client = signed_in("volunteer")
    today = date.today()
    off = today + timedelta(days=1)
    ticked = [(today + timedelta(days=n)).isoformat() for n in range(14) if n != 1]
    response = client.post(URL, data={"days": ticked})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    page = client.get(URL).get_data(as_text=True)
    assert "Your availability is saved." in page
    boxes = _boxes(page)
    assert boxes[off.isoformat()] is False
    assert sum(boxes.values()) == 13
    volunteer_id = world.ids["own"]["volunteer_id"]
    with web_db.session() as s:
        assert f"!{off.isoformat()}" in s.get(Volunteer, volunteer_id).days
        (event,) = s.execute(
            select(AuditEvent).where(AuditEvent.action == "volunteer.availability")
        ).scalars()
        assert event.actor == world.email("volunteer")
        assert event.entity_id == str(volunteer_id)
        crt_v1 = f"{world.ids['own']['org']}/V1"
        assert crt_v1 not in [v.id for v in snapshot(s, off).scenario.volunteers]
        assert crt_v1 in [v.id for v in snapshot(s, today).scenario.volunteers]
        # The other organization's volunteer is untouched.
        other = s.get(Volunteer, world.ids["other"]["volunteer_id"])
        assert other.days is None


def test_a_day_outside_the_fortnight_is_refused(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    far = (date.today() + timedelta(days=30)).isoformat()
    response = signed_in("volunteer").post(URL, data={"days": [far]})
    assert response.status_code == 400
    assert "is not a valid choice" in response.get_data(as_text=True)
    with web_db.session() as s:
        assert s.get(Volunteer, world.ids["own"]["volunteer_id"]).days is None


def test_saving_needs_the_csrf_token(csrf_app: Flask, world: World, web_db: TestDatabase) -> None:
    client = csrf_app.test_client()
    sign_in(client, world.email("volunteer"))
    assert client.post(URL, data={"days": []}).status_code == 400
    html = client.get(URL).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    ok = client.post(URL, data={"csrf_token": token.group(1), "days": []})
    assert ok.status_code == 302
    with web_db.session() as s:
        days = s.get(Volunteer, world.ids["own"]["volunteer_id"]).days
    assert days is not None and len([d for d in days if d.startswith("!")]) == 14
