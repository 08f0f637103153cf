"""``/volunteer/``: the signed-in volunteer's route of a date is the published plan's
route (order, quantities, times), on a map, with no household identifier."""

from __future__ import annotations

import json
import re
from datetime import time
from typing import Any

from babel.dates import format_time
from flask import Flask

from engine.models import Batch
from tests.platform.conftest import TestDatabase
from tests.web.volunteer_support import (
    ROUTE,
    allocations_of,
    assert_no_household_data,
    household_phones,
    household_secrets,
    open_window,
    route_items,
)
from tests.web.world import NEXT_DAY, World


def _plan_route(database: TestDatabase, world: World, side: str = "own") -> dict[str, Any]:
    with database.session() as s:
        plan = json.loads(s.get(Batch, world.published_batch).plan)
    volunteer = f"{world.ids[side]['org']}/V1"
    (route,) = [r for r in plan["routes"] if r["volunteer"] == volunteer]
    route["quantities"] = {a["id"]: a["quantity"] for a in plan["allocations"]}
    return route


def _map_data(html: str, map_id: str = "route-map-1") -> dict[str, Any]:
    match = re.search(rf'<script type="application/json" id="{map_id}-data">(.*?)</script>', html)
    assert match, "no map data"
    return json.loads(match.group(1))


def test_route_page_is_the_plans_route_in_order_with_quantities_and_times(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    route = _plan_route(web_db, world)
    ids = {a.plan_id: a.id for a in allocations_of(web_db, world)}
    response = signed_in("volunteer").get(ROUTE)
    assert response.status_code == 200
    stops, items = route_items(response.get_data(as_text=True))

    expected_items = []
    for visit in route["visits"]:
        expected_items += [(str(ids[a]), "pickup") for a in visit["pickups"]]
        expected_items += [(str(ids[a]), "delivery") for a in visit["deliveries"]]
    assert [(i["allocation"], i["action"]) for i in items] == expected_items
    assert [s["number"] for s in stops] == [str(n) for n in range(1, len(route["visits"]) + 1)]
    assert [s["arrival"] for s in stops] == [
        " ".join(
            f"about {format_time(time.fromisoformat(v['arrival']), 'short', locale='en')}".split()
        )
        for v in route["visits"]
    ]
    by_id = {str(ids[a]): q for a, q in route["quantities"].items() if a in ids}
    for item in items:
        assert f"{by_id[item['allocation']]} × Food basket" in item["what"], item
        assert item["status"] == "planned"
    # Deliveries are named by their rank on the route, in the route's order.
    deliveries = [i["what"].split(":")[0] for i in items if i["action"] == "delivery"]
    assert deliveries == [f"Delivery {n}" for n in range(1, len(deliveries) + 1)]


def test_map_and_navigation_links_inside_the_contact_window(
    signed_in: Any, web_db: TestDatabase, world: World, monkeypatch: Any
) -> None:
    open_window(web_db, world, monkeypatch)
    route = _plan_route(web_db, world)
    html = signed_in("volunteer").get(ROUTE).get_data(as_text=True)
    data = _map_data(html)
    assert data["tiles"] is None  # JESSR_TILE_URL unset: the route is drawn without tiles
    numbered = [s for s in data["stops"] if s["kind"] != "home"]
    assert [s["number"] for s in numbered] == list(range(1, len(route["visits"]) + 1))
    assert [s["label"] for s in numbered] == [str(s["number"]) for s in numbered]
    assert [(s["lat"], s["lon"]) for s in numbered] == [
        (v["lat"], v["lon"]) for v in route["visits"]
    ]
    (line,) = data["lines"]
    assert len(line["points"]) == len(route["visits"]) + 2  # from home, back home
    geo = re.findall(r'href="geo:([-\d.]+),([-\d.]+)\?q=', html)
    assert [(float(a), float(b)) for a, b in geo] == [
        (round(v["lat"], 6), round(v["lon"], 6)) for v in route["visits"]
    ]
    osm = re.findall(r'href="(https://www\.openstreetmap\.org/directions\?[^"]+)"', html)
    assert len(osm) == len(route["visits"])
    assert "Show contact" in html


def test_household_places_are_hidden_outside_the_window(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    # The world's batch was published (by the real clock) after its day's window.
    html = signed_in("volunteer").get(ROUTE).get_data(as_text=True)
    numbered = [s for s in _map_data(html)["stops"] if s["kind"] != "home"]
    assert [s["kind"] for s in numbered] == ["pickup"]  # the depot only
    assert len(re.findall(r'href="geo:', html)) == 1
    assert "Show contact" not in html
    assert "no longer shown" in html
    _stops, items = route_items(html)
    assert len([i for i in items if i["action"] == "delivery"]) == 6  # still listed, in order


def test_no_household_identifier_or_contact_on_the_route_page(
    signed_in: Any, web_db: TestDatabase, world: World, monkeypatch: Any
) -> None:
    secrets = household_secrets(web_db) + household_phones(web_db)
    client = signed_in("volunteer")
    assert_no_household_data(client.get(ROUTE).get_data(as_text=True), secrets)
    open_window(web_db, world, monkeypatch)
    assert_no_household_data(client.get(ROUTE).get_data(as_text=True), secrets)
    assert_no_household_data(client.get("/volunteer/availability").get_data(as_text=True), secrets)


def test_each_volunteer_sees_only_their_own_route(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    for side, role in (("own", "volunteer"), ("other", "volunteer")):
        html = signed_in(role, side).get(ROUTE).get_data(as_text=True)
        _stops, items = route_items(html)
        mine = {str(a.id) for a in allocations_of(web_db, world, side)}
        assert {i["allocation"] for i in items} == mine


def test_a_draft_is_no_route_and_a_bad_date_is_refused(signed_in: Any) -> None:
    client = signed_in("volunteer")
    html = client.get(f"/volunteer/?date={NEXT_DAY.isoformat()}").get_data(as_text=True)
    assert "No route is published for you on this day." in html
    assert 'data-allocation="' not in html
    bad = client.get("/volunteer/?date=28/11/2026")
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_pages_are_never_stored_and_carry_no_inline_code(
    signed_in: Any, web_db: TestDatabase, world: World, monkeypatch: Any, app: Flask
) -> None:
    open_window(web_db, world, monkeypatch)
    client = signed_in("volunteer")
    for url in (ROUTE, "/volunteer/availability"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        html = response.get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    allocation = world.ids["own"]["allocation_id"]
    reveal = client.post(f"/volunteer/reveal/{allocation}", headers={"Accept": "application/json"})
    assert reveal.status_code == 200
    assert reveal.headers["Cache-Control"] == "no-store"


def test_rounds_are_localised(signed_in: Any) -> None:
    client = signed_in("volunteer")
    html = client.get(ROUTE + "&lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "My route" not in html
    assert "جولتي" in html  # "My route"
    assert "قفة غذائية" in html  # the category's Arabic name (food basket)
    assert "التسليم 1" in html  # "Delivery 1"
