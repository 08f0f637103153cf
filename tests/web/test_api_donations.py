"""``/api/v1/donations``: one supply lot registered as an inventory import row,
listed, shown; scoped to the organization (another's: 404)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, SupplyLot
from tests.platform.conftest import TestDatabase
from tests.web.world import World


def _lot(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ref": "D-1",
        "category": "food.flour",
        "quantity": 30,
        "site": "depot",
        "expires": "2027-06-30",
        "regions": ["tn-11", "TN-12"],
        "donor": "Moulin du Nord",
        "received": "2026-11-20",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]["json"]


def test_staff_registers_a_lot_at_its_site(signed_in: Any, web_db: TestDatabase) -> None:
    response = signed_in("staff").post("/api/v1/donations", json=_lot())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["org"] == "crt" and body["site"] == "depot"
    assert (body["quantity"], body["reserved"], body["delivered"], body["available"]) == (
        30,
        0,
        0,
        30,
    )
    assert body["regions"] == ["TN-11", "TN-12"]
    assert (body["expires"], body["received"]) == ("2027-06-30", "2026-11-20")
    with web_db.session() as s:
        lot = s.get(SupplyLot, body["id"])
        assert lot is not None and lot.donor == "Moulin du Nord"
        actions = [
            e.action
            for e in s.execute(
                select(AuditEvent).where(AuditEvent.actor == "staff@crt.example.org")
            ).scalars()
        ]
    assert actions[-2:] == ["lot.add", "import.commit"]


def test_a_lot_at_coordinates(signed_in: Any) -> None:
    body = _lot(site=None, lat=36.8, lon=10.18, region="TN-11", regions=None)
    response = signed_in("coordinator").post("/api/v1/donations", json=body)
    assert response.status_code == 201
    shown = response.get_json()
    assert (shown["site"], shown["lat"], shown["region"], shown["regions"]) == (
        None,
        36.8,
        "TN-11",
        None,
    )


def test_a_retry_is_answered_and_a_change_is_a_conflict(signed_in: Any) -> None:
    client = signed_in("staff")
    first = client.post("/api/v1/donations", json=_lot())
    assert first.status_code == 201
    assert client.post("/api/v1/donations", json=_lot()).status_code == 200
    assert client.post("/api/v1/donations", json=_lot(quantity=31)).status_code == 409


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"site": "elsewhere"}, "site", "unknown site of organization crt"),
        ({"lat": 36.8}, "lat", "must be empty when site is given"),
        ({"site": None, "lat": 36.8, "lon": 10.1}, "region", "missing value"),
        ({"site": None}, "lat", "give site, or lat, lon and region"),
        ({"category": "food.gold"}, "category", "unknown category"),
        ({"regions": ["TN-99"]}, "regions", "unknown region"),
        ({"regions": []}, "regions", "Length"),
        ({"quantity": 0}, "quantity", "greater than or equal to 1"),
        ({"quantity": 2.5}, "quantity", "Not a valid integer."),
        ({"expires": "30/06/2027"}, "expires", "Not a valid date."),
    ],
)
def test_an_invalid_lot_is_422_naming_the_field(
    signed_in: Any, changes: dict[str, Any], field: str, reason: str
) -> None:
    body = _lot()
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    errors = _errors(signed_in("staff").post("/api/v1/donations", json=body))
    assert field in errors, errors
    assert reason in " ".join(errors[field])


def test_the_other_organizations_site_is_unknown_here(signed_in: Any) -> None:
    # Both organizations have a site "depot": the lot goes to the caller's own.
    response = signed_in("staff", "other").post("/api/v1/donations", json=_lot())
    assert response.status_code == 201 and response.get_json()["org"] == "utss"
    assert signed_in("staff").post("/api/v1/donations", json=_lot(org="utss")).status_code == 403


def test_roles_and_admin(signed_in: Any) -> None:
    assert signed_in("volunteer").post("/api/v1/donations", json=_lot()).status_code == 403
    admin = signed_in("admin")
    assert "org" in _errors(admin.post("/api/v1/donations", json=_lot()))
    assert admin.post("/api/v1/donations", json=_lot(org="utss")).status_code == 201


def test_listing_and_showing(signed_in: Any, world: World) -> None:
    staff = signed_in("staff")
    listed = staff.get("/api/v1/donations").get_json()
    assert listed["total"] == 2 and {i["org"] for i in listed["items"]} == {"crt"}
    assert staff.get("/api/v1/donations?available=false").get_json()["total"] == 0
    assert (
        staff.get("/api/v1/donations?available=true&category=food.basket").get_json()["total"] == 2
    )
    assert signed_in("admin").get("/api/v1/donations").get_json()["total"] == 4
    own, other = world.ids["own"]["lot_id"], world.ids["other"]["lot_id"]
    assert staff.get(f"/api/v1/donations/{own}").get_json()["ref"] == "L1"
    assert staff.get(f"/api/v1/donations/{other}").status_code == 404
    assert signed_in("coordinator").get(f"/api/v1/donations/{other}").status_code == 404
    assert signed_in("admin").get(f"/api/v1/donations/{other}").status_code == 200
    assert signed_in("volunteer").get(f"/api/v1/donations/{own}").status_code == 403
    assert staff.get("/api/v1/donations?available=maybe").status_code == 422


def test_a_category_an_admin_added_is_accepted(signed_in: Any, web_db: TestDatabase) -> None:
    """Categories are checked against the database's catalogue, as an import's are."""
    from engine.models import Category

    client = signed_in("staff")
    assert "category" in _errors(client.post("/api/v1/donations", json=_lot(category="Food.Dates")))
    with web_db.session() as s:
        s.add(Category(id="Food.Dates", unit="box", weight_kg=1.0, names={"en": "Dates"}))
        s.commit()
    response = client.post("/api/v1/donations", json=_lot(category="Food.Dates"))
    assert response.status_code == 201 and response.get_json()["category"] == "Food.Dates"
