"""Cross-site request forgery: every state-changing route of the pages refuses a
request without a valid token, and changes nothing.

Generated from ``app.url_map``: each rule accepting POST, PUT, PATCH or DELETE
outside ``/api/`` is posted to, without a token, by every role its access rule
admits (anonymous and a signed-in account for public routes), on the app with
CSRF checks on (``csrf_app``). The answer must be the 400 error page, written by
Flask-WTF's check (its log line proves the 400 is the CSRF refusal, not a form
error), and the database (every table, the archive head) must be unchanged.

The API is exempt from CSRF because it takes no cookie: a request to a
state-changing ``/api/v1`` route carrying only the session cookie is refused
with 401, so a forged cross-site request cannot act as the user.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import sign_in
from tests.web.dbstate import snapshot
from tests.web.routes import WRITES, Route, roles_for, writing_routes
from tests.web.world import World

CSRF_LOGGER = "flask_wtf.csrf"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _client(app: Flask, world: World, role: str | None, bearer: bool = False) -> FlaskClient:
    """A client signed in as ``role``'s own account, by cookie only unless ``bearer``."""
    client = app.test_client()
    if role is not None:
        sign_in(client, world.email(role))
        if not bearer:
            client.environ_base.pop("HTTP_AUTHORIZATION", None)
    return client


def _token(client: FlaskClient, page: str = "/logout") -> str:
    """The CSRF token a page's form carries for this client's session."""
    response = client.get(page)
    found = TOKEN.search(response.get_data(as_text=True))
    assert found, f"no csrf_token in {page} ({response.status_code})"
    return found.group(1)


def _page_cases(app: Flask, world: World) -> Iterator[tuple[Route, str, str | None]]:
    for route in writing_routes(app, world):
        if route.is_api:
            continue
        roles = roles_for(route)
        if route.is_public:  # anonymous, and one signed-in account (logout needs one)
            roles = [None, "coordinator"]
        for method in sorted(route.methods & WRITES):
            for role in roles:
                yield route, method, role


def test_every_state_changing_page_route_refuses_a_request_without_token(
    csrf_app: Flask, world: World, web_db, caplog: pytest.LogCaptureFixture
) -> None:
    cases = list(_page_cases(csrf_app, world))
    assert any(r.endpoint == "auth.logout" for r, _, _ in cases)  # the walk found routes
    problems: list[str] = []
    caplog.set_level(logging.INFO, logger=CSRF_LOGGER)
    for route, method, role in cases:
        client = _client(csrf_app, world, role)
        before = snapshot(web_db.engine)
        caplog.clear()
        response = client.open(route.url, method=method, data={"anything": "1"})
        body = response.get_data(as_text=True)
        response.close()
        where = f"{role or 'anonymous'} {method} {route.url}"
        if response.status_code != 400:
            problems.append(f"{where}: {response.status_code}, expected 400")
        elif "error-page" not in body:
            problems.append(f"{where}: 400 without the error page")
        if not any(rec.name == CSRF_LOGGER for rec in caplog.records):
            problems.append(f"{where}: not refused by the CSRF check")
        changed = before.differences(snapshot(web_db.engine))
        if changed:
            problems.append(f"{where}: changed {changed}")
    assert problems == [], "\n".join(problems)


def test_a_valid_token_passes_and_the_form_acts(csrf_app: Flask, world: World, web_db) -> None:
    """The control: with the token of its own session, the same kind of POST works."""
    client = _client(csrf_app, world, "coordinator")
    token = _token(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    # The session is over: a page now sends to the sign-in page.
    assert "/login" in client.get("/coordinator/").headers.get("Location", "")


def test_the_token_may_come_in_the_x_csrftoken_header(csrf_app: Flask, world: World) -> None:
    client = _client(csrf_app, world, "volunteer")
    token = _token(client)
    response = client.post("/logout", headers={"X-CSRFToken": token})
    assert response.status_code == 302


def test_a_token_of_another_session_is_refused(csrf_app: Flask, world: World, web_db) -> None:
    attacker = _client(csrf_app, world, "staff", bearer=False)
    stolen = _token(attacker)
    victim = _client(csrf_app, world, "coordinator")
    before = snapshot(web_db.engine)
    response = victim.post("/logout", data={"csrf_token": stolen})
    assert response.status_code == 400
    assert before.differences(snapshot(web_db.engine)) == []


def test_over_https_a_post_needs_a_same_site_referer(csrf_app: Flask, world: World) -> None:
    """``WTF_CSRF_SSL_STRICT``: over TLS the Referer must be this site."""
    client = _client(csrf_app, world, "coordinator")
    page = client.get("/logout", base_url="https://localhost")
    found = TOKEN.search(page.get_data(as_text=True))
    assert found
    token = found.group(1)
    bare = client.post("/logout", data={"csrf_token": token}, base_url="https://localhost")
    assert bare.status_code == 400
    foreign = client.post(
        "/logout",
        data={"csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://evil.example/form"},
    )
    assert foreign.status_code == 400
    same = client.post(
        "/logout",
        data={"csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/logout"},
    )
    assert same.status_code == 302


def test_the_sign_in_form_itself_needs_a_token(csrf_app: Flask, world: World, web_db) -> None:
    """Login CSRF: a forged sign-in into the attacker's account is refused."""
    client = csrf_app.test_client()
    before = snapshot(web_db.engine)
    response = client.post(
        "/login", data={"email": world.email("coordinator"), "password": "password-123"}
    )
    assert response.status_code == 400
    assert before.differences(snapshot(web_db.engine)) == []


# -- the API: bearer tokens only, hence no CSRF


def test_the_api_ignores_the_session_cookie(csrf_app: Flask, world: World) -> None:
    cookie_only = _client(csrf_app, world, "coordinator")
    refused = cookie_only.get("/api/v1/me")
    assert refused.status_code == 401
    bearer = _client(csrf_app, world, "coordinator", bearer=True)
    assert bearer.get("/api/v1/me").status_code == 200


def test_state_changing_api_routes_refuse_a_cookie_session(
    csrf_app: Flask, world: World, web_db, caplog: pytest.LogCaptureFixture
) -> None:
    """Every POST/PUT/PATCH/DELETE under /api/: the session cookie alone → 401, no change;
    with the bearer token and no CSRF token, the CSRF check does not interfere."""
    problems: list[str] = []
    caplog.set_level(logging.INFO, logger=CSRF_LOGGER)
    for route in writing_routes(csrf_app, world):
        if not route.is_api:
            continue
        role = next((r for r in roles_for(route) if r is not None), "admin")
        for method in sorted(route.methods & WRITES):
            where = f"{role} {method} {route.url}"
            client = _client(csrf_app, world, role)
            before = snapshot(web_db.engine)
            response = client.open(route.url, method=method, json={})
            response.close()
            if response.status_code != 401:
                problems.append(f"{where} with the cookie only: {response.status_code}")
            changed = before.differences(snapshot(web_db.engine))
            if changed:
                problems.append(f"{where} with the cookie only changed {changed}")
            caplog.clear()
            bearer = _client(csrf_app, world, role, bearer=True)
            bearer.open(route.url, method=method, json={}).close()
            if any(rec.name == CSRF_LOGGER for rec in caplog.records):
                problems.append(f"{where} with a bearer token: refused by the CSRF check")
    assert problems == [], "\n".join(problems)
