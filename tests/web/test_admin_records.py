"""Organizations, sites, accounts and categories through the admin pages: each form's
pass (written, one archive event by the admin) and fails (a field error, nothing
written), and a disabled account's live session ending."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import accounts, audit
from engine.models import Category, Organization, Site, User
from tests.web.admin_pages import counts, events, field_errors, table, text
from tests.web.conftest import sign_in
from tests.web.world import PASSWORD, World


def _db(app: Flask) -> Any:
    return app.extensions["jessr.database"].factory()


def _state(app: Flask) -> tuple[dict[str, int], str]:
    with _db(app) as s:
        return counts(s), audit.head(s).hash


def _last(app: Flask, action: str) -> Any:
    with _db(app) as s:
        found = events(s, action)
        return found[-1] if found else None


def _refused(app: Flask, client: Any, url: str, data: dict[str, str], field: str) -> list[str]:
    """POST ``data``; expect a 422 page with an error under ``field`` and nothing written."""
    before = _state(app)
    response = client.post(url, data=data)
    assert response.status_code == 422, (url, data, response.status_code)
    errors = field_errors(text(response), field)
    assert errors, (url, data, text(response)[-3000:])
    assert _state(app) == before
    return errors


# -- organizations


ORG = {"code": "tbs", "name": "Tabassom", "region": "TN-42", "parent": ""}


def test_organization_list_and_add(app: Flask, signed_in: Any, world: World) -> None:
    client = signed_in("admin")
    listing = table(text(client.get("/admin/organizations")), "organizations")
    assert [row[0] for row in listing] == ["crt", "utss"]
    response = client.post("/admin/organizations/new", data={**ORG, "parent": "crt"})
    assert response.status_code == 302
    event = _last(app, "organization.add")
    assert event.actor == world.email("admin")
    assert json.loads(event.after) == {
        "code": "tbs",
        "name": "Tabassom",
        "region": "TN-42",
        "parent": "crt",
    }
    assert "tbs" in [
        row[0] for row in table(text(client.get("/admin/organizations")), "organizations")
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": "crt"}, "code", "An organization with this code already exists."),
        ({"code": "a b"}, "code", "Use 1 to 64 letters"),
        ({"code": ""}, "code", "Use 1 to 64 letters"),
        ({"name": "  "}, "name", "This field is required."),
        ({"region": "XX-99"}, "region", "Choose a region from the list."),
        ({"parent": "nope"}, "parent", "No organization has this code."),
    ],
)
def test_organization_add_refusals(
    app: Flask, signed_in: Any, change: dict[str, str], field: str, message: str
) -> None:
    client = signed_in("admin")
    errors = _refused(app, client, "/admin/organizations/new", {**ORG, **change}, field)
    assert any(message in e for e in errors), errors


def test_organization_edit(app: Flask, signed_in: Any, world: World) -> None:
    client = signed_in("admin")
    page = text(client.get("/admin/organizations/utss/edit"))
    assert 'value="utss"' in page and "readonly" in page
    response = client.post(
        "/admin/organizations/utss/edit",
        data={"code": "hacked", "name": "UTSS Sfax", "region": "TN-61", "parent": "crt"},
    )
    assert response.status_code == 302
    event = _last(app, "organization.update")
    before = json.loads(event.before)
    assert set(before) == {"code", "name", "parent"} and before["parent"] is None
    assert json.loads(event.after) == {"code": "utss", "name": "UTSS Sfax", "parent": "crt"}
    with _db(app) as s:
        codes = sorted(s.execute(select(Organization.code)).scalars())
    assert codes == ["crt", "utss"]  # the code is never changed
    # Saving the same values writes nothing.
    before = _state(app)
    again = client.post(
        "/admin/organizations/utss/edit",
        data={"name": "UTSS Sfax", "region": "TN-61", "parent": "crt"},
    )
    assert again.status_code == 302 and _state(app) == before


def test_organization_edit_refusals(app: Flask, signed_in: Any) -> None:
    client = signed_in("admin")
    assert (
        client.post(
            "/admin/organizations/utss/edit", data={"name": "U", "region": "TN-61", "parent": "crt"}
        ).status_code
        == 302
    )
    errors = _refused(
        app,
        client,
        "/admin/organizations/crt/edit",
        {"name": "C", "region": "TN-11", "parent": "utss"},
        "parent",
    )
    assert errors == ["This parent would make a cycle: crt → utss → crt."]
    errors = _refused(
        app,
        client,
        "/admin/organizations/crt/edit",
        {"name": "C", "region": "TN-11", "parent": "crt"},
        "parent",
    )
    assert errors == ["An organization cannot be its own parent."]
    _refused(app, client, "/admin/organizations/crt/edit",
             {"name": "", "region": "TN-11", "parent": ""}, "name")  # fmt: skip
    assert client.get("/admin/organizations/nope/edit").status_code == 404


# -- sites


SITE = {
    "code": "D2",
    "name": "Dépôt 2",
    "region": "",
    "lat": "36,81",
    "lon": "10.18",
    "address": "",
}


def test_site_list_and_add(app: Flask, signed_in: Any) -> None:
    client = signed_in("admin")
    assert [r[0] for r in table(text(client.get("/admin/organizations/crt/sites")), "sites")] == [
        "depot"
    ]
    response = client.post("/admin/organizations/crt/sites/new", data=SITE)
    assert response.status_code == 302
    event = _last(app, "site.add")
    after = json.loads(event.after)
    assert after["org"] == "crt" and after["code"] == "D2" and after["lat"] == 36.81
    assert after["region"] == "TN-11"  # the organization's
    codes = [r[0] for r in table(text(client.get("/admin/organizations/crt/sites")), "sites")]
    assert codes == ["D2", "depot"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": "depot"}, "code", "already has a site with this code"),
        ({"lat": "abc"}, "lat", "Enter a number"),
        ({"lat": "91"}, "lat", "Latitude is between -90 and 90"),
        ({"lon": ""}, "lon", "Give both latitude and longitude."),
        ({"lat": "", "lon": ""}, "lat", "Give latitude and longitude, or an address."),
        (
            {"lat": "", "lon": "", "address": "12 rue de Marseille, Tunis"},
            "address",
            "No geocoder is configured",
        ),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_site_add_refusals(
    app: Flask, signed_in: Any, change: dict[str, str], field: str, message: str
) -> None:
    client = signed_in("admin")
    errors = _refused(app, client, "/admin/organizations/crt/sites/new", {**SITE, **change}, field)
    assert any(message in e for e in errors), errors


# -- accounts


def test_user_add_with_password_signs_in(app: Flask, signed_in: Any, world: World) -> None:
    client = signed_in("admin")
    response = client.post(
        "/admin/users/new",
        data={"email": "New.Staff@crt.example.org", "role": "staff", "org": "crt",
              "volunteer": "", "password": "a-good-password"},
    )  # fmt: skip
    assert response.status_code == 302
    event = _last(app, "user.add")
    assert event.actor == world.email("admin")
    assert json.loads(event.after) == {
        "email": "new.staff@crt.example.org",
        "role": "staff",
        "org": "crt",
        "volunteer": None,
        "password": True,
        "active": True,
    }
    with _db(app) as s:
        assert accounts.authenticate(s, "new.staff@crt.example.org", "a-good-password")
    listing = table(text(client.get("/admin/users?org=crt&role=staff")), "users")
    assert sorted(r[0] for r in listing) == ["new.staff@crt.example.org", world.email("staff")]


def test_volunteer_account_links_its_volunteer(app: Flask, signed_in: Any) -> None:
    client = signed_in("admin")
    response = client.post(
        "/admin/users/new",
        data={"email": "v2@crt.example.org", "role": "volunteer", "org": "", "volunteer": "crt/V2"},
    )
    assert response.status_code == 302
    assert json.loads(_last(app, "user.add").after)["volunteer"] == "crt/V2"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "This is not an email address."),
        ({"email": "staff@crt.example.org"}, "email", "already exists"),
        ({"org": ""}, "org", "belongs to an organization"),
        ({"org": "nope"}, "org", "No organization has this code."),
        ({"role": "root"}, "role", "Choose a role"),
        ({"password": "short"}, "password", "At least 8 characters."),
        ({"volunteer": "crt/V2"}, "volunteer", "Only a volunteer account"),
        ({"role": "volunteer"}, "volunteer", "needs its volunteer"),
        ({"role": "volunteer", "volunteer": "crt/V9"}, "volunteer", "No such volunteer"),
        ({"role": "volunteer", "volunteer": "crt/V1"}, "volunteer", "already has the account"),
    ],
)
def test_user_add_refusals(
    app: Flask, signed_in: Any, data: dict[str, str], field: str, message: str
) -> None:
    client = signed_in("admin")
    form = {"email": "x@crt.example.org", "role": "staff", "org": "crt", "volunteer": "",
            "password": "", **data}  # fmt: skip
    errors = _refused(app, client, "/admin/users/new", form, field)
    assert any(message in e for e in errors), errors


def test_disabling_ends_live_sessions_and_tokens(app: Flask, signed_in: Any, world: World) -> None:
    admin = signed_in("admin")
    staff = signed_in("staff")
    assert staff.get("/").status_code == 302 and "/login" not in staff.get("/").location
    api_token = staff.environ_base["HTTP_AUTHORIZATION"].split()[1]
    user_id = world.ids["own"]["user_id"]
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert 'id="user-disable"' in page
    response = admin.post(f"/admin/users/{user_id}/disable")
    assert response.status_code == 302
    after = json.loads(_last(app, "user.update").after)
    assert after["active"] is False and after["email"] == world.email("staff")
    # The staff member's browser is signed out; its API token no longer works.
    landed = staff.get("/")
    assert landed.status_code == 302 and "/login" in landed.location
    with _db(app) as s:
        assert accounts.api_token_user(s, api_token) is None
        assert accounts.authenticate(s, world.email("staff"), PASSWORD) is None
    assert "disabled" in text(admin.get(f"/admin/users/{user_id}"))
    # Enabled again: a new sign-in works.
    assert admin.post(f"/admin/users/{user_id}/enable").status_code == 302
    with _db(app) as s:
        assert accounts.authenticate(s, world.email("staff"), PASSWORD) is not None


def test_disabling_another_admin_signs_them_out(app: Flask, signed_in: Any) -> None:
    admin = signed_in("admin")
    assert admin.post(
        "/admin/users/new",
        data={"email": "second@example.org", "role": "admin", "org": "", "volunteer": "",
              "password": "another-password"},
    ).status_code == 302  # fmt: skip
    second = app.test_client()
    sign_in(second, "second@example.org")
    assert second.get("/admin/").status_code == 200
    with _db(app) as s:
        second_id = s.execute(
            select(User.id).where(User.email == "second@example.org")
        ).scalar_one()
    assert admin.post(f"/admin/users/{second_id}/disable").status_code == 302
    response = second.get("/admin/")
    assert response.status_code == 302 and "/login" in response.location


def test_an_admin_cannot_disable_themselves(app: Flask, signed_in: Any, world: World) -> None:
    admin = signed_in("admin")
    with _db(app) as s:
        own = accounts.find_user(s, world.email("admin"))
        assert own is not None
    before = _state(app)
    response = admin.post(f"/admin/users/{own.id}/disable")
    assert response.status_code == 409
    assert "You cannot disable your own account." in text(response)
    assert _state(app) == before
    assert admin.get("/admin/").status_code == 200


def test_password_reset(app: Flask, signed_in: Any, world: World) -> None:
    admin = signed_in("admin")
    staff = signed_in("staff")
    user_id = world.ids["own"]["user_id"]
    errors = _refused(app, admin, f"/admin/users/{user_id}/password", {"password": "short"},
                      "password")  # fmt: skip
    assert errors == ["At least 8 characters."]
    assert (
        admin.post(
            f"/admin/users/{user_id}/password", data={"password": "brand-new-password"}
        ).status_code
        == 302
    )
    event = _last(app, "user.password")
    assert json.loads(event.after)["password"] == "reset"
    assert "brand-new-password" not in (event.after or "") + (event.personal or "")
    with _db(app) as s:
        assert accounts.authenticate(s, world.email("staff"), "brand-new-password")
        assert accounts.authenticate(s, world.email("staff"), PASSWORD) is None
    assert "/login" in staff.get("/").location  # its session ended
    assert admin.get(f"/admin/users/{10**6}").status_code == 404


# -- categories


CATEGORY = {
    "id": "food.dates",
    "name_ar": "علبة تمر",
    "name_fr": "Boîte de dattes",
    "name_en": "Box of dates",
    "unit": "box",
    "weight_kg": "1,5",
}


def test_category_list_add_edit_delete(app: Flask, signed_in: Any, world: World) -> None:
    client = signed_in("admin")
    rows = table(text(client.get("/admin/categories")), "categories")
    basket = next(r for r in rows if r[0] == "food.basket")
    assert basket[1:5] == ["قفة غذائية", "Panier alimentaire", "Food basket", "basket"]
    assert client.post("/admin/categories/new", data=CATEGORY).status_code == 302
    added = _last(app, "category.add")
    assert json.loads(added.after) == {
        "id": "food.dates",
        "names": {"ar": "علبة تمر", "fr": "Boîte de dattes", "en": "Box of dates"},
        "unit": "box",
        "weight_kg": 1.5,
        "perishable": False,
    }
    assert added.actor == world.email("admin")
    response = client.post(
        "/admin/categories/food.dates/edit",
        data={**CATEGORY, "id": "food.other", "weight_kg": "2", "perishable": "y"},
    )
    assert response.status_code == 302
    changed = _last(app, "category.update")
    assert json.loads(changed.before) == {"id": "food.dates", "weight_kg": 1.5, "perishable": False}
    assert json.loads(changed.after) == {"id": "food.dates", "weight_kg": 2.0, "perishable": True}
    with _db(app) as s:
        assert s.get(Category, "food.other") is None  # ids never change
        assert s.get(Category, "food.dates").weight_kg == 2.0
    assert client.post("/admin/categories/food.dates/delete").status_code == 302
    assert json.loads(_last(app, "category.delete").before)["id"] == "food.dates"
    with _db(app) as s:
        assert s.get(Category, "food.dates") is None


def test_a_category_in_use_cannot_be_deleted(app: Flask, signed_in: Any) -> None:
    client = signed_in("admin")
    page = text(client.get("/admin/categories/food.basket/edit"))
    assert "it cannot be deleted" in page and 'id="category-delete"' not in page
    before = _state(app)
    response = client.post("/admin/categories/food.basket/delete")
    assert response.status_code == 409
    assert "it cannot be deleted" in text(response)
    assert _state(app) == before
    assert client.get("/admin/categories/nope/edit").status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id": "food.basket"}, "id", "A category with this id already exists."),
        ({"id": "food dates"}, "id", "Use 1 to 64 letters"),
        ({"name_ar": ""}, "name_ar", "This field is required."),
        ({"name_en": " "}, "name_en", "This field is required."),
        ({"unit": ""}, "unit", "This field is required."),
        ({"weight_kg": "-1"}, "weight_kg", "above 0"),
        ({"weight_kg": ""}, "weight_kg", "above 0"),
        ({"weight_kg": "heavy"}, "weight_kg", "Enter a number"),
        ({"weight_kg": "20000"}, "weight_kg", "At most"),
    ],
)
def test_category_refusals(
    app: Flask, signed_in: Any, change: dict[str, str], field: str, message: str
) -> None:
    client = signed_in("admin")
    errors = _refused(app, client, "/admin/categories/new", {**CATEGORY, **change}, field)
    assert any(message in e for e in errors), errors


def test_category_edit_refusal(app: Flask, signed_in: Any) -> None:
    client = signed_in("admin")
    errors = _refused(
        app,
        client,
        "/admin/categories/food.basket/edit",
        {**CATEGORY, "id": "food.basket", "weight_kg": "0"},
        "weight_kg",
    )
    assert errors == ["Give a weight in kilograms above 0."]


def test_pages_in_arabic(signed_in: Any) -> None:
    client = signed_in("admin")
    for url in ("/admin/", "/admin/imports", "/admin/organizations", "/admin/users",
                "/admin/categories", "/admin/archive", "/admin/trace",
                "/admin/organizations/crt/sites/new", "/admin/users/new",
                "/admin/categories/new", "/admin/organizations/new"):  # fmt: skip
        response = client.get(url + "?lang=ar")
        assert response.status_code == 200, url
        page = text(response)
        assert 'dir="rtl"' in page
        assert "Administration" not in page, url  # the admin strings are translated


def test_sites_of_an_unknown_org(signed_in: Any) -> None:
    client = signed_in("admin")
    assert client.get("/admin/organizations/nope/sites").status_code == 404
    assert client.post("/admin/organizations/nope/sites/new", data=SITE).status_code == 404
    with client.application.extensions["jessr.database"].factory() as s:
        assert s.execute(select(Site).where(Site.code == "D2")).first() is None
