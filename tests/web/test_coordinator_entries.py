"""The entry pages (``/coordinator/lots/new``, ``/requests/new``, ``/volunteers/new``):
each rule passing and failing through the web, the actor's scope, the archive
event, and the household identifier in no answer at all."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.households import pseudonym
from engine.models import AuditEvent, Household, Request, SupplyLot, Volunteer
from tests.platform.conftest import TEST_HOUSEHOLD_KEY
from tests.web.world import World

HOUSEHOLD = "HH 0812-3456"
# The identifier as typed and as normalised: none may appear in any answer.
LEAKS = ("HH 0812-3456", "hh08123456", "HH08123456", "0812-3456", "08123456")


class Watch:
    """Every answer a test got, to check that the identifier is in none of them."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, response: Any) -> Any:
        self.bodies.append(response.get_data(as_text=True))
        for header, value in response.headers.items():
            self.bodies.append(f"{header}: {value}")
        return response

    def check(self) -> None:
        for body in self.bodies:
            for leak in LEAKS:
                assert leak.casefold() not in body.casefold(), leak


def request_form(world: World, side: str = "own", **changes: str) -> dict[str, Any]:
    return {
        "org": str(world.ids[side]["org_id"]),
        "household": HOUSEHOLD,
        "category": "food.basket",
        "quantity": "2",
        "priority": "4",
        "region": "TN-11",
        "lat": "36.8100",
        "lon": "10.1800",
        "name": "Famille Test",
        "phone": "+216 20 111 222",
        "filed": "2026-11-28",
        **changes,
    }


def lot_form(world: World, side: str = "own", **changes: str) -> dict[str, Any]:
    return {
        "org": str(world.ids[side]["org_id"]),
        "category": "food.oil",
        "quantity": "30",
        "site": str(world.ids[side]["site_id"]),
        "expires": "2026-12-20",
        "donor": "Boulangerie Test",
        **changes,
    }


def count(web_db: Any, model: Any, **where: Any) -> int:
    with web_db.session() as s:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return s.execute(query).scalar_one()


def field_errors(body: str, field: str) -> list[str]:
    """The error texts shown under form field ``field``."""
    found = re.findall(rf'<p class="field-error" id="{field}-error-\d+">([^<]*)</p>', body)
    return [html.unescape(text) for text in found]


def input_tag(body: str, name: str) -> str:
    """The ``<input>`` tag of field ``name``."""
    found = re.search(rf'<input [^>]*name="{name}"[^>]*>', body)
    assert found is not None, name
    return found[0]


def test_staff_records_a_request_pseudonymised_and_archived(
    signed_in: Any, world: World, web_db: Any
) -> None:
    watch = Watch()
    client = signed_in("staff")
    watch(client.get("/coordinator/requests/new"))
    response = watch(client.post("/coordinator/requests/new", data=request_form(world)))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/coordinator/requests")
    listing = watch(client.get("/coordinator/requests"))
    assert "Famille Test" in listing.get_data(as_text=True)
    assert re.search(r"Request R-\d{8}-[0-9a-f]{6} recorded\.", listing.get_data(as_text=True))
    with web_db.session() as s:
        request = s.execute(select(Request).where(Request.name == "Famille Test")).scalar_one()
        assert request.org_id == world.ids["own"]["org_id"]
        household = s.get(Household, request.household_id)
        assert household.pseudonym == pseudonym(TEST_HOUSEHOLD_KEY.encode(), HOUSEHOLD)
        event = s.execute(
            select(AuditEvent).where(
                AuditEvent.action == "request.add", AuditEvent.entity_id == str(request.id)
            )
        ).scalar_one()
        assert event.actor == world.email("staff")
        assert json.loads(event.after)["household"] == household.pseudonym
    watch.check()


def test_a_duplicate_household_is_a_clear_translated_message(
    signed_in: Any, world: World, web_db: Any
) -> None:
    watch = Watch()
    client = signed_in("staff")
    assert (
        watch(client.post("/coordinator/requests/new", data=request_form(world))).status_code == 302
    )
    before = count(web_db, Request)
    again = request_form(world, household="hh-0812 3456", filed="2026-11-30", name="Autre")
    response = watch(client.post("/coordinator/requests/new", data=again))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    (message,) = field_errors(body, "household")
    assert message.startswith(
        "This household already has an open request for this category: crt/R-"
    )
    assert "less than 14 days apart" in message
    assert 'value=""' in input_tag(body, "household")  # never echoed back
    assert 'value="Autre"' in body  # the other fields are kept
    assert count(web_db, Request) == before
    # In French, the same refusal in French.
    response = watch(client.post("/coordinator/requests/new?lang=fr", data=again))
    (message,) = field_errors(response.get_data(as_text=True), "household")
    assert message.startswith("Ce foyer a déjà une demande ouverte pour cette catégorie")
    # At the other organization: refused too, without naming our request.
    other = signed_in("staff", "other")
    response = watch(other.post("/coordinator/requests/new", data=request_form(world, "other")))
    assert response.status_code == 422
    (message,) = field_errors(response.get_data(as_text=True), "household")
    assert "with another organization" in message and "crt/" not in message
    assert count(web_db, Request) == before
    watch.check()


def test_a_bad_quantity_is_shown_on_its_field_and_nothing_is_written(
    signed_in: Any, world: World, web_db: Any
) -> None:
    watch = Watch()
    client = signed_in("coordinator")
    before = (count(web_db, Request), count(web_db, AuditEvent))
    for quantity in ("abc", "-3", "2.5", "0"):
        response = watch(
            client.post("/coordinator/requests/new", data=request_form(world, quantity=quantity))
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert field_errors(body, "quantity") == ["Enter a whole number of units, 1 or more."]
        assert 'aria-invalid="true"' in body and "The entry was not recorded" in body
    response = watch(client.post("/coordinator/lots/new", data=lot_form(world, quantity="12,5")))
    assert field_errors(response.get_data(as_text=True), "quantity") == [
        "Enter a whole number of units, 1 or more."
    ]
    assert (count(web_db, Request), count(web_db, AuditEvent)) == before
    watch.check()


def test_a_missing_place_and_a_missing_field(signed_in: Any, world: World, web_db: Any) -> None:
    client = signed_in("staff")
    response = client.post(
        "/coordinator/requests/new", data=request_form(world, lat="", lon="", region="")
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(body, "lat") == ["Give the latitude and longitude, or an address."]
    assert field_errors(body, "region") == ["This field is required."]
    # An address without a geocoder configured cannot be placed.
    response = client.post(
        "/coordinator/requests/new", data=request_form(world, lat="", lon="", address="Rue 1")
    )
    assert field_errors(response.get_data(as_text=True), "address") == [
        "This address could not be placed on the map: give the latitude and longitude."
    ]


def test_a_donation_at_the_organizations_site_and_its_event(
    signed_in: Any, world: World, web_db: Any
) -> None:
    client = signed_in("staff")
    response = client.post("/coordinator/lots/new", data=lot_form(world, ref="GIFT-1"))
    assert response.status_code == 302
    with web_db.session() as s:
        lot = s.execute(select(SupplyLot).where(SupplyLot.ref == "GIFT-1")).scalar_one()
        assert (lot.org_id, lot.site_id, lot.quantity_received) == (
            world.ids["own"]["org_id"],
            world.ids["own"]["site_id"],
            30,
        )
        event = s.execute(
            select(AuditEvent).where(
                AuditEvent.action == "lot.add", AuditEvent.entity_id == str(lot.id)
            )
        ).scalar_one()
        assert event.actor == world.email("staff")
        assert json.loads(event.after)["site"] == "depot"
        assert (
            s.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "import.commit")
            ).scalar_one()
            == 0
        )
    # The same ref again: refused on its field.
    response = client.post("/coordinator/lots/new", data=lot_form(world, ref="GIFT-1"))
    assert field_errors(response.get_data(as_text=True), "ref") == [
        "This reference is already used in the organization."
    ]


def test_another_organizations_site_is_refused(signed_in: Any, world: World, web_db: Any) -> None:
    before = count(web_db, SupplyLot)
    client = signed_in("staff")
    data = lot_form(world, site=str(world.ids["other"]["site_id"]))
    response = client.post("/coordinator/lots/new", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(body, "site") == ["Choose one of the organization's sites."]
    assert field_errors(body, "lat") == []  # no "missing" noise on the place fields
    response = client.post("/coordinator/lots/new", data=lot_form(world, site="not-a-number"))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "site") == [
        "Choose one of the organization's sites."
    ]
    assert count(web_db, SupplyLot) == before


def test_staff_and_coordinators_cannot_enter_for_another_organization(
    signed_in: Any, world: World, web_db: Any
) -> None:
    before = (count(web_db, SupplyLot), count(web_db, Request), count(web_db, Volunteer))
    for role in ("staff", "coordinator"):
        client = signed_in(role)
        lot = lot_form(world, org=str(world.ids["other"]["org_id"]))
        lot["site"] = ""
        lot.update(lat="34.74", lon="10.76", region="TN-61")
        assert client.post("/coordinator/lots/new", data=lot).status_code == 404
        request = request_form(world, "other")
        assert client.post("/coordinator/requests/new", data=request).status_code == 404
    coordinator = signed_in("coordinator")
    volunteer = volunteer_form(world, "other")
    assert coordinator.post("/coordinator/volunteers/new", data=volunteer).status_code == 404
    assert (count(web_db, SupplyLot), count(web_db, Request), count(web_db, Volunteer)) == before


def test_an_admin_enters_for_any_organization(signed_in: Any, world: World, web_db: Any) -> None:
    client = signed_in("admin")
    page = client.get("/coordinator/lots/new").get_data(as_text=True)
    assert '<optgroup label="utss">' in page  # the sites, by organization
    response = client.post("/coordinator/lots/new", data=lot_form(world, "other", ref="ADM-1"))
    assert response.status_code == 302
    response = client.post(
        "/coordinator/requests/new", data=request_form(world, "other", region="TN-61")
    )
    assert response.status_code == 302
    with web_db.session() as s:
        lot = s.execute(select(SupplyLot).where(SupplyLot.ref == "ADM-1")).scalar_one()
        assert lot.org_id == world.ids["other"]["org_id"]
        event = s.execute(
            select(AuditEvent).where(
                AuditEvent.action == "lot.add", AuditEvent.entity_id == str(lot.id)
            )
        ).scalar_one()
        assert event.actor == world.email("admin")
    # An admin must choose the organization.
    data = lot_form(world, "other")
    del data["org"]
    response = client.post("/coordinator/lots/new", data=data)
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "org") == ["Choose an organization."]


def volunteer_form(world: World, side: str = "own", **changes: Any) -> dict[str, Any]:
    return {
        "org": str(world.ids[side]["org_id"]),
        "ref": "V-NEW",
        "name": "Sami Test",
        "phone": "+216 98 000 111",
        "lat": "36.80",
        "lon": "10.18",
        "capacity_kg": "350",
        "shift_start": "08:00",
        "shift_end": "15:30",
        "vehicle": "van",
        "weekdays": ["mon", "sat"],
        "dates": "2026-12-24",
        **changes,
    }


def test_a_coordinator_records_a_volunteer(signed_in: Any, world: World, web_db: Any) -> None:
    client = signed_in("coordinator")
    response = client.post("/coordinator/volunteers/new", data=volunteer_form(world))
    assert response.status_code == 302
    with web_db.session() as s:
        volunteer = s.execute(select(Volunteer).where(Volunteer.ref == "V-NEW")).scalar_one()
        assert volunteer.org_id == world.ids["own"]["org_id"]
        assert volunteer.days == ["mon", "sat", "2026-12-24"]
        assert volunteer.capacity_kg == 350
    response = client.post(
        "/coordinator/volunteers/new",
        data=volunteer_form(world, ref="V-NEW2", shift_end="07:00", dates="soon"),
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(body, "shift_end") == ["The end must come after the start."]
    assert field_errors(body, "dates") == ["Write other dates as YYYY-MM-DD, separated by ';'."]
    assert (
        signed_in("staff")
        .post("/coordinator/volunteers/new", data=volunteer_form(world, ref="V-S"))
        .status_code
        == 403
    )


def test_every_entry_needs_its_csrf_token(csrf_app: Any, world: World, web_db: Any) -> None:
    from tests.web.conftest import sign_in

    client: FlaskClient = csrf_app.test_client()
    sign_in(client, world.email("staff"))
    before = count(web_db, Request)
    assert client.post("/coordinator/requests/new", data=request_form(world)).status_code == 400
    assert client.post("/coordinator/lots/new", data=lot_form(world)).status_code == 400
    page = client.get("/coordinator/requests/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    data = {**request_form(world), "csrf_token": token[1]}
    assert client.post("/coordinator/requests/new", data=data).status_code == 302
    assert count(web_db, Request) == before + 1


def test_entries_and_the_household_rule_on_postgresql(pg_world: Any) -> None:
    from tests.web.conftest import make_app, sign_in

    database, world = pg_world
    app = make_app(database)
    try:
        watch = Watch()
        staff = app.test_client()
        sign_in(staff, world.email("staff"))
        response = watch(staff.post("/coordinator/requests/new", data=request_form(world)))
        assert response.status_code == 302
        response = watch(staff.post("/coordinator/lots/new", data=lot_form(world, ref="PG-1")))
        assert response.status_code == 302
        other = app.test_client()
        sign_in(other, world.email("staff", "other"))
        response = watch(other.post("/coordinator/requests/new", data=request_form(world, "other")))
        assert response.status_code == 422
        (message,) = field_errors(response.get_data(as_text=True), "household")
        assert "with another organization" in message
        board = watch(staff.get("/coordinator/?date=2026-11-28")).get_data(as_text=True)
        assert re.findall(r'<p class="stat-figure">([^<]*)</p>', board)[0] == "1"
        watch.check()
        assert count(database, Request, name="Famille Test") == 1
        assert count(database, SupplyLot, ref="PG-1") == 1
    finally:
        app.extensions["jessr.database"].close()
