"""``/api/v1/requests``: one request registered as an import row, listed, shown.

The rules are the import's (``engine.intake`` over ``engine.imports``): each is
checked here passing and failing through the API, with the scope of each role and
organization (another organization's request: 404) and the archive's events.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.households import pseudonym
from engine.models import AuditEvent, Household, Request
from tests.platform.conftest import TEST_HOUSEHOLD_KEY, TestDatabase
from tests.web.world import World

HOUSEHOLD = "08 123 456"


def _request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ref": "API-1",
        "household": HOUSEHOLD,
        "category": "food.basket",
        "quantity": 2,
        "priority": 2,
        "region": "TN-11",
        "lat": 36.81,
        "lon": 10.18,
        "window_start": "09:00",
        "window_end": "24:00",
        "phone": "+216 20 123 456",
        "name": "Family Ben Salah",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _events(db: TestDatabase) -> list[AuditEvent]:
    with db.session() as s:
        return list(s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]["json"]


# -- registering


def test_staff_registers_a_request_of_its_organization(
    signed_in: Any, web_db: TestDatabase
) -> None:
    client = signed_in("staff")
    before = len(_events(web_db))
    response = client.post("/api/v1/requests", json=_request())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["org"] == "crt" and body["ref"] == "API-1" and body["status"] == "open"
    assert (body["window_start"], body["window_end"]) == ("09:00", "24:00")
    assert body["created_at"].endswith("+00:00")
    assert "household" not in body and HOUSEHOLD not in response.get_data(as_text=True)
    with web_db.session() as s:
        row = s.get(Request, body["id"])
        assert row is not None and row.name == "Family Ben Salah"
        household = s.get(Household, row.household_id)
        assert household is not None
        assert household.pseudonym == pseudonym(TEST_HOUSEHOLD_KEY.encode(), HOUSEHOLD)
    events = _events(web_db)[before:]
    assert [e.action for e in events] == ["request.add", "import.commit"]
    assert events[0].actor == "staff@crt.example.org"
    assert "08123456" not in str([(e.before, e.after, e.personal) for e in events])
    assert "Family Ben Salah" not in (events[0].after or "")  # personal part only
    assert "Family Ben Salah" in (events[0].personal or "")


def test_the_same_submission_again_is_answered_without_writing(
    signed_in: Any, web_db: TestDatabase
) -> None:
    client = signed_in("staff")
    first = client.post("/api/v1/requests", json=_request())
    assert first.status_code == 201
    count = len(_events(web_db))
    again = client.post("/api/v1/requests", json=_request())
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert len(_events(web_db)) == count


def test_a_known_ref_with_other_values_is_a_conflict(signed_in: Any, world: World) -> None:
    client = signed_in("staff")
    assert client.post("/api/v1/requests", json=_request()).status_code == 201
    response = client.post("/api/v1/requests", json=_request(quantity=3))
    assert response.status_code == 409
    assert "already exists" in response.get_json()["detail"]
    # a ref the world already holds (an allocated request)
    taken = client.post("/api/v1/requests", json=_request(ref="R1", household="other-family"))
    assert taken.status_code == 409


def test_a_coordinator_registers_for_its_own_organization(signed_in: Any) -> None:
    response = signed_in("coordinator", "other").post("/api/v1/requests", json=_request())
    assert response.status_code == 201
    assert response.get_json()["org"] == "utss"


@pytest.mark.parametrize("role", ["staff", "coordinator"])
def test_naming_another_organization_is_forbidden(signed_in: Any, role: str) -> None:
    response = signed_in(role).post("/api/v1/requests", json=_request(org="utss"))
    assert response.status_code == 403
    assert "own organization" in response.get_json()["detail"]
    same = signed_in(role).post("/api/v1/requests", json=_request(org="crt"))
    assert same.status_code == 201


def test_an_admin_names_the_organization(signed_in: Any) -> None:
    client = signed_in("admin")
    assert _errors(client.post("/api/v1/requests", json=_request())) == {
        "org": ["missing value (an admin names the organization)"]
    }
    unknown = _errors(client.post("/api/v1/requests", json=_request(org="nope")))
    assert "unknown organization" in unknown["org"][0]
    response = client.post("/api/v1/requests", json=_request(org="utss"))
    assert response.status_code == 201 and response.get_json()["org"] == "utss"


def test_a_volunteer_may_not_register(signed_in: Any) -> None:
    assert signed_in("volunteer").post("/api/v1/requests", json=_request()).status_code == 403


def test_missing_and_mistyped_fields_are_listed_together(signed_in: Any) -> None:
    errors = _errors(signed_in("staff").post("/api/v1/requests", json={"quantity": "2"}))
    assert set(errors) == {"ref", "household", "category", "quantity", "priority", "region"}
    assert errors["quantity"] == ["Not a valid integer."]
    assert errors["ref"] == ["Missing data for required field."]


def test_unknown_fields_are_refused(signed_in: Any) -> None:
    errors = _errors(signed_in("staff").post("/api/v1/requests", json=_request(qty=2)))
    assert errors == {"qty": ["Unknown field."]}


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"category": "food.caviar"}, "category", "unknown category"),
        ({"region": "TN-99"}, "region", "unknown region"),
        ({"lon": None}, "lon", "lat and lon go together"),
        ({"lat": None, "lon": None}, "lat", "missing place"),
        ({"window_start": "18:00", "window_end": "09:00"}, "window_end", ""),
        ({"window_start": "25:00"}, "window_start", "HH:MM"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"filed": "2026-02-30"}, "filed", "Not a valid date."),
        ({"ref": "has space"}, "ref", "String does not match"),
        ({"priority": 6}, "priority", "less than or equal to 5"),
        ({"quantity": 10**9 + 1}, "quantity", "less than or equal to 1000000000"),
        ({"name": "x" * 201}, "name", "Length must be between 0 and 200."),
        ({"name": "Family\x00"}, "name", "control characters"),
        ({"name": "\ud800"}, "name", "control characters"),
        ({"lat": float("nan")}, "lat", ""),
    ],
)
def test_an_invalid_value_is_422_naming_the_field(
    signed_in: Any, changes: dict[str, Any], field: str, reason: str
) -> None:
    body = _request()
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    errors = _errors(signed_in("staff").post("/api/v1/requests", json=body))
    assert field in errors, errors
    assert reason in " ".join(errors[field])


def test_an_address_without_a_geocoder_is_a_bad_value(signed_in: Any) -> None:
    body = _request(lat=None, lon=None, address="12 rue de Marseille, Tunis")
    errors = _errors(signed_in("staff").post("/api/v1/requests", json=body))
    assert errors == {"address": ["no geocoder configured"]}


def test_the_household_rule_spans_organizations_and_hides_the_identifier(
    signed_in: Any,
) -> None:
    assert signed_in("staff").post("/api/v1/requests", json=_request()).status_code == 201
    response = signed_in("staff", "other").post(
        "/api/v1/requests", json=_request(ref="U-7", household="08-123-456")
    )
    errors = _errors(response)
    assert "already has an open request for food.basket: crt/API-1" in errors["household"][0]
    body = response.get_data(as_text=True)
    for fragment in ("08-123-456", "08123456", "123-456", "123456"):  # not the date's "08"
        assert fragment not in body
    other_category = signed_in("staff", "other").post(
        "/api/v1/requests", json=_request(ref="U-8", category="hygiene.kit")
    )
    assert other_category.status_code == 201


def test_the_household_identifier_in_a_stored_field_is_refused(signed_in: Any) -> None:
    response = signed_in("staff").post("/api/v1/requests", json=_request(name="Family 08123456"))
    errors = _errors(response)
    assert errors["name"] == ["contains the household identifier, which is never stored in clear"]
    assert "08123456" not in response.get_data(as_text=True)


def test_a_refused_request_writes_nothing(signed_in: Any, web_db: TestDatabase) -> None:
    with web_db.session() as s:
        count = s.execute(select(func.count()).select_from(Request)).scalar_one()
    client = signed_in("staff")
    before = len(_events(web_db))
    assert client.post("/api/v1/requests", json=_request(category="nope")).status_code == 422
    with web_db.session() as s:
        assert s.execute(select(func.count()).select_from(Request)).scalar_one() == count
    assert len(_events(web_db)) == before


# -- listing and showing


def _list(client: FlaskClient, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/v1/requests{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("role", ["staff", "coordinator"])
def test_the_list_holds_the_own_organization_only(signed_in: Any, role: str) -> None:
    body = _list(signed_in(role))
    assert body["total"] == 6 and len(body["items"]) == 6
    assert {item["org"] for item in body["items"]} == {"crt"}
    assert all("household" not in item for item in body["items"])
    assert [i["id"] for i in body["items"]] == sorted(
        (i["id"] for i in body["items"]), reverse=True
    )


def test_the_list_pages_and_filters(signed_in: Any) -> None:
    client = signed_in("staff")
    assert client.post("/api/v1/requests", json=_request()).status_code == 201
    page = _list(client, "?page=2&page_size=4")
    assert (page["page"], page["page_size"], page["total"], len(page["items"])) == (2, 4, 7, 3)
    opened = _list(client, "?status=open")
    assert [i["ref"] for i in opened["items"]] == ["API-1"]
    assert _list(client, "?category=hygiene.kit")["total"] == 0
    assert _list(client, "?page=999")["items"] == []
    bad = client.get("/api/v1/requests?status=lost&page_size=1000")
    assert set(bad.get_json()["errors"]["query"]) == {"status", "page_size"}


def test_an_admin_lists_every_organization_or_one(signed_in: Any) -> None:
    client = signed_in("admin")
    assert _list(client)["total"] == 12
    only = _list(client, "?org=utss")
    assert only["total"] == 6 and {i["org"] for i in only["items"]} == {"utss"}


def test_families_contacts_are_shown_to_their_own_organization_only(
    signed_in: Any, world: World
) -> None:
    own = world.ids["own"]["request_id"]
    staff = signed_in("staff").get(f"/api/v1/requests/{own}").get_json()
    assert (staff["name"], staff["phone"]) == ("Family crt 1", "+216 20 000 001")
    admin = signed_in("admin")
    shown = admin.get(f"/api/v1/requests/{own}").get_json()
    assert (shown["name"], shown["phone"], shown["address"]) == (None, None, None)
    assert shown["ref"] == "R1" and shown["lat"] is not None
    listed = _list(admin)["items"]
    assert all(i["name"] is None and i["phone"] is None for i in listed)
    created = admin.post("/api/v1/requests", json=_request(org="crt")).get_json()
    assert created["name"] is None  # stored, but not shown back to a national account


def test_a_staff_account_cannot_widen_its_list_with_org(signed_in: Any) -> None:
    assert _list(signed_in("staff"), "?org=utss")["total"] == 0


def test_showing_one(signed_in: Any, world: World) -> None:
    own, other = world.ids["own"]["request_id"], world.ids["other"]["request_id"]
    staff = signed_in("staff")
    shown = staff.get(f"/api/v1/requests/{own}")
    assert shown.status_code == 200 and shown.get_json()["ref"] == "R1"
    assert shown.get_json()["phone"] == "+216 20 000 001"
    assert staff.get(f"/api/v1/requests/{other}").status_code == 404
    assert signed_in("coordinator").get(f"/api/v1/requests/{other}").status_code == 404
    assert signed_in("admin").get(f"/api/v1/requests/{other}").status_code == 200
    assert staff.get("/api/v1/requests/999999").status_code == 404
    assert staff.get(f"/api/v1/requests/{2**31}").status_code == 404
    assert signed_in("volunteer").get(f"/api/v1/requests/{own}").status_code == 403


def test_concurrent_submissions_of_one_record_on_postgresql(
    pg_world: tuple[TestDatabase, World],
) -> None:
    """Several clients sending the same new request at once (a retry storm): one
    creates it, the others get it back (200) or a conflict (409), never a 5xx."""
    import threading

    from tests.web.conftest import make_app, sign_in

    database, world = pg_world
    app = make_app(database)
    try:
        clients = []
        for _ in range(4):
            client = app.test_client()
            sign_in(client, world.email("staff"))
            clients.append(client)
        barrier = threading.Barrier(len(clients))
        codes: list[int] = []

        def send(client: FlaskClient) -> None:
            barrier.wait()
            codes.append(client.post("/api/v1/requests", json=_request(ref="RACE")).status_code)

        threads = [threading.Thread(target=send, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert codes.count(201) == 1, codes
        assert set(codes) <= {200, 201, 409}, codes
        with database.session() as s:
            count = s.execute(
                select(func.count()).select_from(Request).where(Request.ref == "RACE")
            ).scalar_one()
            assert count == 1
    finally:
        app.extensions["jessr.database"].close()
