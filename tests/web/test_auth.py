"""Signing in and out, as a browser does it (the real form, the real cookie).

Sessions are server-side (``engine.accounts``): the cookie only holds a random
token, so ending the row — logout, an idle or absolute timeout, a disabled
account — signs the browser out at its next request, and replaying an old
cookie gets nothing. The clock is moved by editing the session row's
timestamps.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import accounts
from engine.access import system_actor
from engine.db.base import utcnow
from engine.models.accounts import LoginLink, UserSession
from engine.models.audit import AuditEvent
from engine.models.people import User
from tests.web.conftest import make_app
from tests.web.world import PASSWORD, World

COOKIE = "jessr_session"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WRONG = "Wrong email or password."


# -- helpers


def cookie_of(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie is not None else None


def session_data(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """The signed session cookie's content (what the browser holds)."""
    value = cookie_of(client)
    if value is None:
        return {}
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return dict(serializer.loads(value))


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """A new browser that presents ``value`` as its session cookie (a replay)."""
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def log_in(client: FlaskClient, email: str, password: str = PASSWORD, next_: str | None = None):
    url = "/login" + (f"?next={next_}" if next_ is not None else "")
    return client.post(url, data={"email": email, "password": password})


def signed_in_page(client: FlaskClient, url: str = "/coordinator/") -> bool:
    """True when ``url`` answers its page rather than sending to the sign-in page."""
    response = client.get(url)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200, response.status_code
    return True


def session_row(web_db: Any, email: str) -> UserSession:
    with web_db.session() as s:
        user = accounts.find_user(s, email)
        assert user is not None
        return (
            s.execute(
                select(UserSession)
                .where(UserSession.user_id == user.id)
                .order_by(UserSession.id.desc())
            )
            .scalars()
            .first()
        )


def edit_session(web_db: Any, row_id: int, **values: Any) -> None:
    with web_db.session() as s:
        row = s.get(UserSession, row_id)
        for key, value in values.items():
            setattr(row, key, value)
        s.commit()


# -- signing in


def test_signing_in_starts_a_fresh_session(app: Flask, world: World, web_db: Any) -> None:
    client = app.test_client()
    client.get("/login?lang=fr")
    before = cookie_of(client)
    assert before is not None and "_user_id" not in session_data(app, client)
    response = log_in(client, world.email("coordinator"))
    assert response.status_code == 302
    after = cookie_of(client)
    assert after is not None and after != before
    data = session_data(app, client)
    assert data["lang"] == "fr"  # the language survives the new session
    row = session_row(web_db, world.email("coordinator"))
    assert row.token_sha256 == accounts.token_hash(data["_user_id"])
    assert row.ended_at is None
    assert signed_in_page(client)
    # The cookie of before the sign-in (a planted one, say) gives nothing.
    assert not signed_in_page(with_cookie(app, before))
    with web_db.session() as s:
        event = (
            s.execute(
                select(AuditEvent).where(AuditEvent.action == "user.login").order_by(AuditEvent.seq)
            )
            .scalars()
            .all()[-1]
        )
        assert event.actor == world.email("coordinator")
        assert "password" in (event.after or "")
        assert data["_user_id"] not in (event.after or "")  # no secret in the archive


def test_signing_in_again_ends_the_earlier_session(
    csrf_app: Flask, world: World, web_db: Any
) -> None:
    """A one-time link opened in a browser already signed in: the old token is dead."""
    client = csrf_app.test_client()
    page = client.get("/login")
    token = TOKEN.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    client.post(
        "/login",
        data={"email": world.email("volunteer"), "password": PASSWORD, "csrf_token": token},
    )
    old = cookie_of(client)
    first = session_row(web_db, world.email("volunteer"))
    assert old is not None and first.ended_at is None
    link = _make_link(web_db, world)
    form = client.get(f"/login/link/{link}")
    csrf = TOKEN.search(form.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert client.post(f"/login/link/{link}", data={"csrf_token": csrf}).status_code == 302
    assert cookie_of(client) != old
    assert signed_in_page(client, "/volunteer/")
    assert not signed_in_page(with_cookie(csrf_app, old), "/volunteer/")
    with web_db.session() as s:
        assert s.get(UserSession, first.id).ended_at is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(app: Flask, world: World) -> None:
    known = log_in(app.test_client(), world.email("coordinator"), "not-the-password")
    unknown = log_in(app.test_client(), "nobody@crt.example.org", "not-the-password")
    assert known.status_code == unknown.status_code == 401
    bodies = [
        r.get_data(as_text=True).replace(email, "EMAIL")
        for r, email in ((known, world.email("coordinator")), (unknown, "nobody@crt.example.org"))
    ]
    assert WRONG in bodies[0]
    assert bodies[0] == bodies[1]  # nothing tells whether the account exists
    assert cookie_of(app.test_client()) is None


def test_a_disabled_account_cannot_sign_in(app: Flask, world: World, web_db: Any) -> None:
    _disable(web_db, world.email("staff"))
    response = log_in(app.test_client(), world.email("staff"))
    assert response.status_code == 401 and WRONG in response.get_data(as_text=True)


def test_an_empty_form_names_the_missing_fields(app: Flask) -> None:
    response = app.test_client().post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert response.get_data(as_text=True).count('class="field-error"') == 2


# -- rate limits


@pytest.fixture
def limited_app(web_db: Any) -> Iterator[Flask]:
    application = make_app(web_db, RATELIMIT_ENABLED=True)
    yield application
    application.extensions["jessr.database"].close()


def test_repeated_failures_on_one_account_are_slowed_down(limited_app: Flask, world: World) -> None:
    client = limited_app.test_client()
    email = world.email("coordinator")
    for _ in range(5):
        assert log_in(client, email, "guess").status_code == 401
    blocked = log_in(client, email)  # even the right password, for now
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert log_in(client, world.email("staff")).status_code == 302  # another account may


def test_many_failures_from_one_address_are_slowed_down(limited_app: Flask) -> None:
    client = limited_app.test_client()
    codes = [log_in(client, f"guess{i}@example.org", "guess").status_code for i in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert client.get("/login").status_code == 200  # only attempts are counted


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_storage() -> Iterator[str]:
    """Redis database 15, emptied before and after (skipped without a server)."""
    import redis

    base = os.environ.get("JESSR_TEST_REDIS_URL")
    url = REDIS_URL
    if base:  # the CI's server, database 15
        url = base.rsplit("/", 1)[0] + "/15" if base.count("/") >= 3 else base + "/15"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        if os.environ.get("JESSR_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis required (JESSR_REQUIRE_SERVICES=1) but unreachable: {exc}")
        pytest.skip(f"Redis unreachable at {url}")
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def test_the_count_is_shared_through_redis(
    web_db: Any, world: World, redis_storage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two app instances (two gunicorn workers) count the same attempts in Redis."""
    import redis

    from engine.config import Settings

    monkeypatch.setenv("JESSR_RATELIMIT_STORAGE_URL", redis_storage)
    env = {**web_db.env(), "JESSR_RATELIMIT_STORAGE_URL": redis_storage}
    settings = Settings.from_env(env, cwd=web_db.workdir)
    assert settings.ratelimit_storage_url == redis_storage
    email = world.email("coordinator")

    def worker() -> Flask:
        from dataclasses import replace

        from tests.web.conftest import TEST_CONFIG
        from web import create_app

        return create_app(
            replace(settings, secure_cookies=False), {**TEST_CONFIG, "RATELIMIT_ENABLED": True}
        )

    first = worker()
    try:
        assert first.config["RATELIMIT_STORAGE_URI"] == redis_storage
        for _ in range(5):
            assert log_in(first.test_client(), email, "guess").status_code == 401
    finally:
        first.extensions["jessr.database"].close()
    stored = redis.Redis.from_url(redis_storage)
    try:
        assert stored.dbsize() > 0  # the counters live in Redis, not in the worker
    finally:
        stored.close()
    second = worker()
    try:
        assert log_in(second.test_client(), email).status_code == 429
    finally:
        second.extensions["jessr.database"].close()


# -- signing out and session ends


def test_logout_ends_the_server_side_session(app: Flask, world: World, web_db: Any) -> None:
    client = app.test_client()
    log_in(client, world.email("coordinator"))
    cookie = cookie_of(client)
    assert cookie is not None and signed_in_page(client)
    confirm = client.get("/logout")  # a GET only asks
    assert confirm.status_code == 200 and signed_in_page(client)
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    row = session_row(web_db, world.email("coordinator"))
    assert row.ended_at is not None and row.ended_reason == "logout"
    assert not signed_in_page(client)
    replay = with_cookie(app, cookie)  # the cookie of before the logout
    response = replay.get("/coordinator/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with web_db.session() as s:
        actions = s.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
        assert actions[-1] == "user.logout"


@pytest.mark.parametrize(
    ("field", "age", "reason"),
    [
        ("last_seen_at", timedelta(minutes=121), "idle"),
        ("created_at", timedelta(hours=13), "expired"),
    ],
)
def test_a_session_times_out(
    app: Flask, world: World, web_db: Any, field: str, age: timedelta, reason: str
) -> None:
    client = app.test_client()
    log_in(client, world.email("coordinator"))
    row = session_row(web_db, world.email("coordinator"))
    edit_session(web_db, row.id, **{field: utcnow() - age})
    response = client.get("/coordinator/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/coordinator/")
    ended = session_row(web_db, world.email("coordinator"))
    assert ended.ended_reason == reason
    # Moving the clock back does not revive it.
    edit_session(web_db, row.id, last_seen_at=utcnow(), created_at=utcnow())
    assert not signed_in_page(client)


def test_a_session_in_use_stays_alive(app: Flask, world: World, web_db: Any) -> None:
    client = app.test_client()
    log_in(client, world.email("coordinator"))
    row = session_row(web_db, world.email("coordinator"))
    edit_session(
        web_db,
        row.id,
        last_seen_at=utcnow() - timedelta(minutes=119),
        created_at=utcnow() - timedelta(hours=11),
    )
    assert signed_in_page(client)
    touched = session_row(web_db, world.email("coordinator"))
    assert utcnow() - touched.last_seen_at.replace(tzinfo=utcnow().tzinfo) < timedelta(minutes=1)


def _disable(web_db: Any, email: str) -> None:
    with web_db.session() as s:
        user = accounts.find_user(s, email)
        assert user is not None
        accounts.set_active(s, system_actor("test"), user.id, False)
        s.commit()


def test_a_disabled_account_is_signed_out_at_its_next_request(
    app: Flask, world: World, web_db: Any, signed_in: Any
) -> None:
    client = app.test_client()
    log_in(client, world.email("staff"))
    api = signed_in("staff")  # holds a bearer token too
    assert signed_in_page(client)
    assert api.get("/api/v1/me").status_code == 200
    _disable(web_db, world.email("staff"))
    assert not signed_in_page(client)
    assert session_row(web_db, world.email("staff")).ended_reason == "disabled"
    assert api.get("/api/v1/me").status_code == 401


# -- one-time links


def _make_link(web_db: Any, world: World, ttl: timedelta = timedelta(hours=24)) -> str:
    with web_db.session() as s:
        coordinator = accounts.find_user(s, world.email("coordinator"))
        volunteer = accounts.find_user(s, world.email("volunteer"))
        assert coordinator is not None and volunteer is not None
        token = accounts.create_login_link(s, accounts.actor_of(coordinator), volunteer, ttl)
        s.commit()
    return token


def _use_link(app: Flask, token: str) -> tuple[FlaskClient, Any]:
    client = app.test_client()
    page = client.get(f"/login/link/{token}")
    assert page.status_code == 200
    found = TOKEN.search(page.get_data(as_text=True))
    data = {"csrf_token": found.group(1)} if found else {}
    return client, client.post(f"/login/link/{token}", data=data)


def test_a_sign_in_link_works_once(csrf_app: Flask, world: World, web_db: Any) -> None:
    token = _make_link(web_db, world)
    client, response = _use_link(csrf_app, token)
    assert response.status_code == 302 and response.headers["Location"] == "/volunteer/"
    assert signed_in_page(client, "/volunteer/")
    assert session_row(web_db, world.email("volunteer")).ended_at is None
    _again, replay = _use_link(csrf_app, token)
    assert replay.status_code == 410
    assert "expired or was already used" in replay.get_data(as_text=True)


def test_a_sign_in_link_expires(csrf_app: Flask, world: World, web_db: Any) -> None:
    token = _make_link(web_db, world)
    with web_db.session() as s:
        link = s.execute(
            select(LoginLink).where(LoginLink.token_sha256 == accounts.token_hash(token))
        ).scalar_one()
        link.expires_at = utcnow() - timedelta(seconds=1)
        s.commit()
    _client, response = _use_link(csrf_app, token)
    assert response.status_code == 410


def test_a_link_of_a_disabled_account_signs_nobody_in(
    csrf_app: Flask, world: World, web_db: Any
) -> None:
    token = _make_link(web_db, world)
    _disable(web_db, world.email("volunteer"))
    _client, response = _use_link(csrf_app, token)
    assert response.status_code == 410


def test_an_unknown_link_signs_nobody_in(csrf_app: Flask) -> None:
    _client, response = _use_link(csrf_app, "made-up-token")
    assert response.status_code == 410


# -- language


def _lang(response: Any) -> tuple[str, str]:
    html = response.get_data(as_text=True)
    found = re.search(r'<html lang="(\w+)" dir="(\w+)"', html)
    assert found, html[:200]
    return found.group(1), found.group(2)


def test_the_language_is_remembered_and_stored_at_sign_in(
    app: Flask, world: World, web_db: Any
) -> None:
    client = app.test_client()
    assert _lang(client.get("/login?lang=ar")) == ("ar", "rtl")
    assert _lang(client.get("/login")) == ("ar", "rtl")  # remembered
    assert _lang(client.get("/login?lang=xx")) == ("ar", "rtl")  # unknown: ignored
    log_in(client, world.email("coordinator"))
    assert _lang(client.get("/coordinator/")) == ("ar", "rtl")
    with web_db.session() as s:
        user = s.execute(select(User).where(User.email == world.email("coordinator"))).scalar_one()
        assert user.locale == "ar"
    # Another browser: the account's language, whatever the browser prefers.
    other = app.test_client()
    log_in(other, world.email("coordinator"))
    page = other.get("/coordinator/", headers={"Accept-Language": "fr"})
    assert _lang(page) == ("ar", "rtl")
    assert _lang(other.get("/coordinator/?lang=en")) == ("en", "ltr")


def test_without_a_choice_the_browser_language_is_used(app: Flask) -> None:
    client = app.test_client()
    assert _lang(client.get("/login", headers={"Accept-Language": "fr-TN,fr;q=0.9"})) == (
        "fr",
        "ltr",
    )
    assert _lang(app.test_client().get("/login", headers={"Accept-Language": "de"}))[0] == "en"


# -- where a sign-in leads


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "http:/evil.example",
        "coordinator/",
    ],
)
def test_next_never_leaves_the_site(app: Flask, world: World, target: str) -> None:
    from urllib.parse import quote, urlsplit

    response = log_in(app.test_client(), world.email("coordinator"), next_=quote(target))
    assert response.status_code == 302
    location = response.headers["Location"]
    # As a browser reads it: tabs and newlines dropped, "\\" taken for "/".
    read = urlsplit(re.sub(r"[\t\r\n]", "", location).replace("\\", "/"))
    assert not read.scheme and not read.netloc, location
    assert location.startswith("/") and not location.startswith("//"), location


def test_next_leads_back_to_the_page_asked_for(app: Flask, world: World) -> None:
    client = app.test_client()
    asked = client.get("/coordinator/batches/?day=2026-11-28")
    assert asked.status_code == 302
    login_url = asked.headers["Location"]
    assert login_url.startswith("/login?next=")
    response = client.post(
        login_url, data={"email": world.email("coordinator"), "password": PASSWORD}
    )
    assert response.headers["Location"] == "/coordinator/batches/?day=2026-11-28"
