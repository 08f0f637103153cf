"""Published batches and routes: ``/api/v1/batches``, ``/api/v1/batches/ID/routes``,
``/api/v1/routes/mine``, ``/api/v1/allocations/ID/contact`` — who sees which route,
and no household data beyond what the pages show each role."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from engine import accounts
from engine.models import AuditEvent, Batch, Organization
from engine.models import Request as RequestRow
from tests.platform import factories as f
from tests.platform.conftest import TestDatabase
from tests.web.volunteer_support import (
    allocations_of,
    assert_no_household_data,
    household_phones,
    household_secrets,
    open_window,
)
from tests.web.world import DAY, NEXT_DAY, World


def _routes(client: Any, batch: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/batches/{batch}/routes")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["routes"]


def _items(route: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for stop in route["stops"] for i in (*stop["pickups"], *stop["deliveries"])]


def _plan_route(db: TestDatabase, world: World, volunteer: str) -> dict[str, Any]:
    with db.session() as s:
        plan = json.loads(s.get(Batch, world.published_batch).plan)
    return next(r for r in plan["routes"] if r["volunteer"] == volunteer)


# -- batches


def test_published_batches_for_coordinators_and_admins(signed_in: Any, world: World) -> None:
    for role, side in (("coordinator", "own"), ("coordinator", "other"), ("admin", "own")):
        body = signed_in(role, side).get("/api/v1/batches").get_json()
        assert [b["id"] for b in body["items"]] == [world.published_batch]  # no draft
        batch = body["items"][0]
        assert batch["date"] == DAY.isoformat() and batch["status"] == "published"
        assert sum(batch["allocations"].values()) == batch["allocations"]["planned"] > 0
        assert batch["published_at"].endswith("+00:00")
    coordinator = signed_in("coordinator")
    assert coordinator.get(f"/api/v1/batches?date={DAY}").get_json()["total"] == 1
    assert coordinator.get(f"/api/v1/batches?date={NEXT_DAY}").get_json()["total"] == 0
    assert coordinator.get("/api/v1/batches?date=tomorrow").status_code == 422
    assert signed_in("staff").get("/api/v1/batches").status_code == 403
    assert signed_in("volunteer").get("/api/v1/batches").status_code == 403


# -- coordinators' routes


def test_a_coordinator_sees_its_organizations_route_sheets(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    own = _routes(signed_in("coordinator"), world.published_batch)
    other = _routes(signed_in("coordinator", "other"), world.published_batch)
    assert [r["volunteer"] for r in own] == ["crt/V1"]
    assert [r["volunteer"] for r in other] == ["utss/V1"]
    everyone = _routes(signed_in("admin"), world.published_batch)
    assert [r["volunteer"] for r in everyone] == ["crt/V1", "utss/V1"]
    route = own[0]
    planned = _plan_route(web_db, world, "crt/V1")
    assert [s["arrival"] for s in route["stops"]] == [v["arrival"] for v in planned["visits"]]
    assert [s["number"] for s in route["stops"]] == list(range(1, len(planned["visits"]) + 1))
    for stop in route["stops"]:
        assert stop["lat"] is None and stop["lon"] is None  # no household's place
        for item in stop["pickups"]:
            assert item["lot"].startswith("crt/L") and item["request"] is None
        for item in stop["deliveries"]:
            assert item["request"].startswith("crt/R") and item["contact"] is False
    text = json.dumps(own)
    for phone in household_phones(web_db):
        assert phone not in text
    assert "Family" not in text


def test_statuses_follow_the_reports(signed_in: Any, world: World) -> None:
    ref = world.ids["own"]["allocation_ref"]
    report = signed_in("volunteer").post(
        "/api/v1/deliveries", json={"allocation": ref, "kind": "picked_up"}
    )
    assert report.status_code == 201
    for role in ("coordinator", "volunteer"):
        items = _items(_routes(signed_in(role), world.published_batch)[0])
        assert {i["status"] for i in items if i["allocation"] == ref} == {"picked_up"}
        assert {i["status"] for i in items if i["allocation"] != ref} == {"planned"}


def test_unpublished_or_unknown_batches_are_not_found(signed_in: Any, world: World) -> None:
    for role in ("coordinator", "admin", "volunteer"):
        client = signed_in(role)
        assert client.get(f"/api/v1/batches/{world.draft_batch}/routes").status_code == 404
        assert client.get("/api/v1/batches/999999/routes").status_code == 404
    staff = signed_in("staff").get(f"/api/v1/batches/{world.published_batch}/routes")
    assert staff.status_code == 403


# -- volunteers' routes


def test_a_volunteer_sees_only_its_own_round_without_household_data(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    response = signed_in("volunteer").get(f"/api/v1/batches/{world.published_batch}/routes")
    routes = response.get_json()["routes"]
    assert [r["volunteer"] for r in routes] == ["crt/V1"]
    route = routes[0]
    assert route["volunteer_id"] == world.ids["own"]["volunteer_id"]
    assert route["batch"] == world.published_batch and route["date"] == DAY.isoformat()
    mine = {a.id for a in allocations_of(web_db, world)}
    items = _items(route)
    assert {i["allocation_id"] for i in items} == mine
    deliveries = [i for stop in route["stops"] for i in stop["deliveries"]]
    assert [i["number"] for i in deliveries] == list(range(1, len(deliveries) + 1))
    for item in items:
        assert item["lot"] is None and item["request"] is None
    assert_no_household_data(response.get_data(as_text=True), household_secrets(web_db))
    for phone in household_phones(web_db):
        assert phone not in response.get_data(as_text=True)


def test_household_places_show_inside_the_contact_window_only(
    signed_in: Any, world: World, web_db: TestDatabase, monkeypatch: Any
) -> None:
    client = signed_in("volunteer")
    # The world's batch was published (real clock) after its day: the window is shut.
    shut = _routes(client, world.published_batch)[0]
    for stop in shut["stops"]:
        if stop["pickups"]:
            assert stop["lat"] is not None  # a site is no household
        else:
            assert stop["lat"] is None and stop["lon"] is None
        assert all(i["contact"] is False for i in stop["deliveries"])
    open_window(web_db, world, monkeypatch)
    opened = _routes(client, world.published_batch)[0]
    planned = _plan_route(web_db, world, "crt/V1")
    assert [(s["lat"], s["lon"]) for s in opened["stops"]] == [
        (v["lat"], v["lon"]) for v in planned["visits"]
    ]
    assert all(i["contact"] for s in opened["stops"] for i in s["deliveries"])


def test_the_contact_is_revealed_to_the_carrier_and_archived(
    signed_in: Any, world: World, web_db: TestDatabase, monkeypatch: Any
) -> None:
    allocation = world.ids["own"]["allocation_id"]
    client = signed_in("volunteer")
    shut = client.post(f"/api/v1/allocations/{allocation}/contact")
    assert shut.status_code == 409 and "one day after the delivery" in shut.get_json()["detail"]
    open_window(web_db, world, monkeypatch)
    response = client.post(f"/api/v1/allocations/{allocation}/contact")
    assert response.status_code == 200
    body = response.get_json()
    with web_db.session() as s:
        request = s.execute(
            select(RequestRow).where(RequestRow.ref == "R1", RequestRow.org_id == 1)
        ).scalar_one()
        events = list(
            s.execute(select(AuditEvent).where(AuditEvent.action == "household.reveal")).scalars()
        )
    assert body["allocation_id"] == allocation and body["phone"] == request.phone
    assert body["closes"].endswith("+00:00")
    assert len(events) == 1 and events[0].actor == world.email("volunteer")
    theirs = world.ids["other"]["allocation_id"]
    assert client.post(f"/api/v1/allocations/{theirs}/contact").status_code == 404
    assert client.get(f"/api/v1/allocations/{allocation}/contact").status_code == 405
    for role in ("coordinator", "admin", "staff"):
        refused = signed_in(role).post(f"/api/v1/allocations/{allocation}/contact")
        assert refused.status_code == 403, role


def test_a_volunteer_without_a_route_in_the_batch_gets_none(
    app: Flask, world: World, web_db: TestDatabase
) -> None:
    with web_db.session() as s:
        org = s.get(Organization, world.ids["own"]["org_id"])
        volunteer = f.make_volunteer(s, org, "V9")
        f.make_user(s, "v9@crt.example.org", "volunteer", org, volunteer_id=volunteer.id)
        token = accounts.create_api_token(s, "test", "v9@crt.example.org")
        s.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    routes = client.get(f"/api/v1/batches/{world.published_batch}/routes", headers=headers)
    assert routes.status_code == 200 and routes.get_json() == {"routes": []}
    mine = client.get(f"/api/v1/routes/mine?date={DAY}", headers=headers)
    assert mine.get_json()["routes"] == []


def test_my_routes_of_a_date(signed_in: Any, world: World) -> None:
    client = signed_in("volunteer")
    body = client.get(f"/api/v1/routes/mine?date={DAY}").get_json()
    assert body["date"] == DAY.isoformat()
    assert [r["volunteer"] for r in body["routes"]] == ["crt/V1"]
    assert body["routes"][0]["batch"] == world.published_batch
    assert body["routes"] == _routes(client, world.published_batch)
    # the next day has a draft only: nothing to drive yet
    assert client.get(f"/api/v1/routes/mine?date={NEXT_DAY}").get_json()["routes"] == []
    assert client.get("/api/v1/routes/mine").status_code == 200  # today
    assert client.get("/api/v1/routes/mine?date=2026-13-01").status_code == 422
    assert signed_in("coordinator").get("/api/v1/routes/mine").status_code == 403
