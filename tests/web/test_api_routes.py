"""Published batches and routes: ``/api/v1/batches``, ``/api/v1/batches/ID/routes``,
``/api/v1/routes/mine`` — who sees which route."""

from __future__ import annotations

import json
from typing import Any

from engine import accounts
from engine.models import Batch, Organization
from tests.platform import factories as f
from tests.platform.conftest import TestDatabase
from tests.web.world import DAY, NEXT_DAY, World


def _routes(client: Any, batch: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/batches/{batch}/routes")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["routes"]


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


def test_a_coordinator_sees_its_organizations_routes(signed_in: Any, world: World) -> None:
    own = _routes(signed_in("coordinator"), world.published_batch)
    other = _routes(signed_in("coordinator", "other"), world.published_batch)
    assert own and {r["volunteer"].split("/")[0] for r in own} == {"crt"}
    assert other and {r["volunteer"].split("/")[0] for r in other} == {"utss"}
    everyone = _routes(signed_in("admin"), world.published_batch)
    assert sorted(r["volunteer"] for r in everyone) == sorted(
        r["volunteer"] for r in [*own, *other]
    )


def test_a_volunteer_sees_only_its_own_route(signed_in: Any, world: World) -> None:
    routes = _routes(signed_in("volunteer"), world.published_batch)
    assert [r["volunteer"] for r in routes] == ["crt/V1"]
    route = routes[0]
    assert route["volunteer_id"] == world.ids["own"]["volunteer_id"]
    assert route["date"] == DAY.isoformat() and route["batch"] == world.published_batch
    positions = [stop["position"] for stop in route["stops"]]
    assert positions == list(range(len(positions)))
    picked = {i["ref"] for stop in route["stops"] for i in stop["pickups"]}
    delivered = {i["ref"] for stop in route["stops"] for i in stop["deliveries"]}
    assert picked == delivered and world.ids["own"]["allocation_ref"] in picked
    for stop in route["stops"]:
        assert all(item["contact"] is None for item in stop["pickups"])
        for item in stop["deliveries"]:
            assert item["status"] == "planned"
            assert item["contact"]["phone"].startswith("+216")


def test_routes_follow_the_plan_and_the_statuses(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    client = signed_in("volunteer")
    ref = world.ids["own"]["allocation_ref"]
    report = client.post("/api/v1/deliveries", json={"allocation": ref, "kind": "picked_up"})
    assert report.status_code == 201
    route = _routes(client, world.published_batch)[0]
    with web_db.session() as s:
        plan = json.loads(s.get(Batch, world.published_batch).plan)
    planned = next(r for r in plan["routes"] if r["volunteer"] == "crt/V1")
    assert [stop["arrival"] for stop in route["stops"]] == [v["arrival"] for v in planned["visits"]]
    statuses = {i["ref"]: i["status"] for stop in route["stops"] for i in stop["deliveries"]}
    assert statuses[ref] == "picked_up"


def test_unpublished_or_unknown_batches_are_not_found(signed_in: Any, world: World) -> None:
    for role in ("coordinator", "admin", "volunteer"):
        client = signed_in(role)
        assert client.get(f"/api/v1/batches/{world.draft_batch}/routes").status_code == 404
        assert client.get("/api/v1/batches/999999/routes").status_code == 404
    assert (
        signed_in("staff").get(f"/api/v1/batches/{world.published_batch}/routes").status_code == 403
    )


def test_a_volunteer_without_a_route_in_the_batch_gets_none(
    app: Any, world: World, web_db: TestDatabase
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
    # the next day has a draft only: nothing to drive yet
    assert client.get(f"/api/v1/routes/mine?date={NEXT_DAY}").get_json()["routes"] == []
    assert client.get("/api/v1/routes/mine").status_code == 200  # today
    assert client.get("/api/v1/routes/mine?date=2026-13-01").status_code == 422
    assert signed_in("coordinator").get("/api/v1/routes/mine").status_code == 403
