"""Printable route sheets: the coordinator's own organization's volunteers only,
ordered stops with times and loads, no household contact data, print styles."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from engine.models import Batch, Volunteer
from tests.platform.conftest import TestDatabase
from tests.web.batch_helpers import BATCHES
from tests.web.world import World


def _route(database: TestDatabase, batch_id: int, volunteer_id: int) -> dict[str, Any]:
    with database.session() as s:
        batch = s.get(Batch, batch_id)
        volunteer = s.get(Volunteer, volunteer_id)
        assert batch is not None and volunteer is not None
        plan = json.loads(batch.plan)
    return next(r for r in plan["routes"] if r["volunteer"].endswith(f"/{volunteer.ref}"))


def test_the_route_sheet_lists_the_stops_in_order(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    volunteer = world.ids["own"]["volunteer_id"]
    response = signed_in("coordinator").get(f"{BATCHES}/{world.published_batch}/routes/{volunteer}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    route = _route(web_db, world.published_batch, int(volunteer))
    arrivals = re.findall(r'<th scope="row" class="number">(\d+)</th>\s*<td>([0-9:]+)</td>', html)
    assert arrivals == [
        (str(i), visit["arrival"]) for i, visit in enumerate(route["visits"], start=1)
    ]
    delivered = [aid for visit in route["visits"] for aid in visit["deliveries"]]
    for aid in delivered:
        assert f"({aid})" in html
    assert "for request crt/R" in html and "from lot crt/L" in html
    assert "css/batch.css" in html and "js/batch-print.js" in html
    # No household data on the sheet: the world's requests carry phones and names.
    assert "+216" not in html and "Family" not in html
    assert " style=" not in html


def test_another_organizations_volunteer_is_not_found(signed_in: Any, world: World) -> None:
    other = world.ids["other"]["volunteer_id"]
    path = f"{BATCHES}/{world.published_batch}/routes/{other}"
    assert signed_in("coordinator").get(path).status_code == 404
    assert signed_in("coordinator", "other").get(path).status_code == 200
    assert signed_in("admin").get(path).status_code == 200


def test_a_volunteer_without_a_route_is_not_found(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    with web_db.session() as s:
        spare = s.execute(
            select(Volunteer.id).where(
                Volunteer.ref == "V2", Volunteer.org_id == world.ids["own"]["org_id"]
            )
        ).scalar_one()
        plan = json.loads(s.get(Batch, world.published_batch).plan)  # type: ignore[union-attr]
    if any(r["volunteer"] == "crt/V2" for r in plan["routes"]):
        spare = 999999
    path = f"{BATCHES}/{world.published_batch}/routes/{spare}"
    assert signed_in("coordinator").get(path).status_code == 404


def test_the_review_links_only_own_route_sheets(signed_in: Any, world: World) -> None:
    html = signed_in("coordinator").get(f"{BATCHES}/{world.published_batch}").get_data(as_text=True)
    own, other = world.ids["own"]["volunteer_id"], world.ids["other"]["volunteer_id"]
    assert f"/routes/{own}" in html and f"/routes/{other}" not in html
    assert "another organization's volunteer" in html
