"""The API's door: bearer tokens only, the OpenAPI document, the error body.

- the document is valid OpenAPI 3 and lists every ``/api/v1`` route of the URL map,
  each operation with a documented answer (and schema) for every status it gives;
- no token, a bad one, an expired or revoked one, a disabled account, or a browser
  session without a token: 401 with ``WWW-Authenticate: Bearer``;
- ``jessr token revoke`` ends a token's use at once;
- errors share one body; ``message`` follows ``?lang=`` / ``Accept-Language``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select, update

from engine import accounts
from engine.access import system_actor
from engine.db.base import utcnow
from engine.models import ApiToken, AuditEvent, User
from tests.platform.conftest import TestDatabase
from tests.web.world import World

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, /api/v1/path/{arg}) of every API route in the URL map."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) & METHODS:
            found.add((method, path))
    return found


def _token(app: Flask, email: str, days: int | None = 90) -> str:
    with app.extensions["jessr.database"].factory() as s:
        token = accounts.create_api_token(s, "test", email, name="t", days=days)
        s.commit()
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the document


def test_the_document_is_valid_openapi_3_and_public(client: FlaskClient) -> None:
    document = _document(client)
    validate(document)  # raises on any violation of the OpenAPI 3.0 specification
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert document["security"] == [{"bearer": []}]


def test_the_document_lists_every_api_route_of_the_app(app: Flask, client: FlaskClient) -> None:
    document = _document(client)
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in METHODS
    }
    routes = _operations(app)
    assert len(routes) >= 12
    assert routes == documented


def test_every_operation_documents_its_answers(client: FlaskClient) -> None:
    document = _document(client)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.upper() not in METHODS:
                continue
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert "default" not in responses, where  # every status named, none catch-all
            assert "401" in responses, where
            assert "WWW-Authenticate" in responses["401"]["headers"], where
            for status, answer in responses.items():
                schema = answer["content"]["application/json"]["schema"]
                assert schema.get("$ref"), f"{where} {status}"
            if "requestBody" in operation or any(
                p["in"] == "query" for p in operation.get("parameters", [])
            ):
                assert "422" in responses, where


def test_request_bodies_are_the_validating_schemas(client: FlaskClient) -> None:
    schemas = _document(client)["components"]["schemas"]
    request_in = schemas["RequestIn"]
    assert request_in["additionalProperties"] is False
    assert set(request_in["required"]) == {
        "ref",
        "household",
        "category",
        "quantity",
        "priority",
        "region",
    }
    assert request_in["properties"]["household"]["writeOnly"] is True
    assert "household" not in schemas["RequestOut"]["properties"]
    assert request_in["properties"]["quantity"]["maximum"] == 10**9
    assert schemas["DeliveryIn"]["properties"]["kind"]["enum"] == [
        "picked_up",
        "delivered",
        "failed",
    ]


# -- tokens


def test_no_token_is_401_with_the_bearer_challenge_on_every_operation(
    app: Flask, client: FlaskClient
) -> None:
    values = {"request_id": 1, "lot_id": 1, "batch_id": 1, "allocation_id": 1}
    for method, path in sorted(_operations(app)):
        url = path.format(**values)
        response = client.open(url, method=method, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, url)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="jessr"'
        body = response.get_json()
        assert body["code"] == 401 and body["status"] == "Unauthorized"
        assert "message" in body


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Token abc"],
)
def test_a_bad_authorization_header_is_401(client: FlaskClient, header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="jessr"')
    if header == "Bearer not-a-token":
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_valid_token_opens_the_api(app: Flask, client: FlaskClient, world: World) -> None:
    token = _token(app, world.email("staff"))
    response = client.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 200
    assert response.get_json() == {
        "email": world.email("staff"),
        "role": "staff",
        "org": "crt",
        "volunteer": None,
        "locale": None,
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_me_names_the_volunteer_record(signed_in: Any) -> None:
    body = signed_in("volunteer").get("/api/v1/me").get_json()
    assert body["role"] == "volunteer" and body["volunteer"] == "crt/V1"
    admin = signed_in("admin").get("/api/v1/me").get_json()
    assert admin["org"] is None and admin["role"] == "admin"


def test_an_expired_token_is_401(app: Flask, client: FlaskClient, world: World) -> None:
    token = _token(app, world.email("staff"))
    with app.extensions["jessr.database"].factory() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.token_sha256 == accounts.token_hash(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        s.commit()
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_a_revoked_token_is_401(app: Flask, client: FlaskClient, world: World) -> None:
    token = _token(app, world.email("coordinator"))
    kept = _token(app, world.email("staff"))
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    with app.extensions["jessr.database"].factory() as s:
        assert accounts.revoke_api_tokens(s, "test", world.email("coordinator")) >= 1
        s.commit()
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(kept)).status_code == 200


def test_a_disabled_account_is_401(app: Flask, client: FlaskClient, world: World) -> None:
    token = _token(app, world.email("staff"))
    with app.extensions["jessr.database"].factory() as s:
        user = accounts.find_user(s, world.email("staff"))
        assert user is not None
        accounts.set_active(s, system_actor("test"), user.id, False)
        s.commit()
    response = client.get("/api/v1/requests", headers=_bearer(token))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_a_browser_session_alone_does_not_open_the_api(signed_in: Any) -> None:
    client = signed_in("admin")
    del client.environ_base["HTTP_AUTHORIZATION"]  # the session cookie stays
    assert client.get("/api/v1/me").status_code == 401


def test_token_revoke_command(web_db: TestDatabase, app: Flask, world: World) -> None:
    email = world.email("volunteer")
    created = web_db.cli("token", "create", email, "--name", "phone")
    assert created.code == 0, created.err
    token = created.out.strip()
    client = app.test_client()
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    other = web_db.cli("token", "revoke", email, "--name", "laptop")
    assert other.code == 0 and other.out.strip() == "revoked 0 tokens"
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    revoked = web_db.cli("token", "revoke", email, "--name", "phone")
    assert revoked.code == 0 and revoked.out.strip() == "revoked 1 token"
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    with web_db.session() as s:
        user_id = s.execute(select(User.id).where(User.email == email)).scalar_one()
        event = s.execute(
            select(AuditEvent).where(AuditEvent.action == "token.revoke")
        ).scalar_one()
        assert event.entity_id == str(user_id)
    unknown = web_db.cli("token", "revoke", "nobody@example.org")
    assert unknown.code == 2


# -- the error body and its language


def test_error_messages_follow_the_asked_language(signed_in: Any, world: World) -> None:
    client = signed_in("staff")
    other = world.ids["other"]["request_id"]
    english = client.get(f"/api/v1/requests/{other}").get_json()
    french = client.get(f"/api/v1/requests/{other}?lang=fr").get_json()
    arabic = client.get(f"/api/v1/requests/{other}", headers={"Accept-Language": "ar"}).get_json()
    assert english["message"] == "Not found, or not visible to your account."
    assert french["message"] == "Introuvable, ou non visible pour votre compte."
    assert arabic["message"] == "غير موجود، أو غير متاح لحسابك."
    for body in (english, french, arabic):
        assert body["code"] == 404 and body["status"] == "Not Found"


def test_the_api_keeps_no_session_for_the_language(signed_in: Any) -> None:
    response = signed_in("staff").get("/api/v1/requests/999999?lang=ar")
    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers


def test_a_role_outside_the_operation_is_403_and_an_unknown_route_404(
    signed_in: Any,
) -> None:
    client = signed_in("volunteer")
    response = client.get("/api/v1/requests")
    assert response.status_code == 403
    assert response.get_json()["status"] == "Forbidden"
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.is_json


def test_unreadable_bodies_are_400_never_500(signed_in: Any) -> None:
    client = signed_in("staff")
    for body in (
        "{",  # not JSON
        '{"quantity": ' + "9" * 5000 + "}",  # an integer Python refuses to read
        "[" * 100_000 + "]" * 100_000,  # nesting deeper than the parser's recursion
        b"\xff\xfe{}",  # not UTF-8
    ):
        response = client.post(
            "/api/v1/requests", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, body[:20]
        assert response.get_json()["errors"] == {"json": ["Invalid JSON body."]}


def test_a_body_that_is_not_an_object_is_422(signed_in: Any) -> None:
    client = signed_in("staff")
    for body in ([], "text", 3, None):
        response = client.post("/api/v1/requests", json=body)
        assert response.status_code == 422, body


def test_the_accounts_language_is_the_default(app: Flask, signed_in: Any, world: World) -> None:
    with app.extensions["jessr.database"].factory() as s:
        user = accounts.find_user(s, world.email("staff"))
        assert user is not None
        accounts.set_locale(s, user, "fr")
        s.commit()
    client = signed_in("staff")
    body = client.get("/api/v1/requests/999999").get_json()
    assert body["message"] == "Introuvable, ou non visible pour votre compte."
    asked = client.get("/api/v1/requests/999999?lang=en").get_json()
    assert asked["message"] == "Not found, or not visible to your account."
