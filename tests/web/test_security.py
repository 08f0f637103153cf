"""Response headers, cookies and the markup rules the Content-Security-Policy relies on.

- Every answer carries a CSP without ``'unsafe-inline'``/``'unsafe-eval'`` and with
  ``frame-ancestors 'none'``, ``nosniff`` and a same-origin referrer policy; HSTS
  only over HTTPS.
- Every page (every GET route × every role, from ``app.url_map``) answered to a
  signed-in user, HTML or JSON, is ``Cache-Control: no-store``; every HTML page has no inline
  script, no ``<style>`` block, no ``style=`` or ``on…=`` attribute, no
  ``javascript:`` link, and every POST form carries a CSRF token (the CSP would
  silently break the first ones in a browser; the last would answer 400).
- The session cookie is HttpOnly and SameSite=Lax, Secure when configured.
- An unexpected error answers the error page, never a traceback.
"""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from tests.web.conftest import TEST_CONFIG, make_app, sign_in
from tests.web.routes import ROLES, page_routes
from tests.web.world import PASSWORD, World


def _directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def check_headers(headers: Any, *, https: bool = False) -> list[str]:
    """What the security headers of one answer lack."""
    problems = []
    policy = headers.get("Content-Security-Policy", "")
    if not policy:
        return ["no Content-Security-Policy"]
    directives = _directives(policy)
    if "'unsafe-inline'" in policy or "'unsafe-eval'" in policy:
        problems.append(f"CSP allows inline code: {policy}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP lacks frame-ancestors 'none'")
    for name in ("script-src", "style-src", "object-src", "base-uri", "default-src"):
        if name not in directives:
            problems.append(f"CSP lacks {name}")
    if directives.get("object-src") != ["'none'"]:
        problems.append("CSP allows plugins (object-src)")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin"):
        problems.append(f"referrer policy {headers.get('Referrer-Policy')!r}")
    hsts = headers.get("Strict-Transport-Security")
    if https and not (hsts and "max-age=" in hsts):
        problems.append("no HSTS over HTTPS")
    if not https and hsts:
        problems.append("HSTS sent over plain HTTP")
    return problems


class MarkupCheck(HTMLParser):
    """Finds what a strict CSP blocks in a page, and POST forms without a CSRF token."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._form: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"<{tag} style=…> (inline style)")
            elif name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> (inline handler)")
            elif name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script":
            src = attributes.get("src")
            kind = (attributes.get("type") or "").lower()
            if src is None and kind not in ("application/json", "application/ld+json"):
                self.problems.append("inline <script>")
            if src is not None and (src.startswith("//") or "://" in src):
                self.problems.append(f"script from elsewhere: {src}")
        elif tag == "style":
            self.problems.append("<style> block")
        elif tag == "form":
            method = (attributes.get("method") or "get").lower()
            self._form = {"post": method == "post", "token": False}
        elif tag == "input" and self._form is not None and attributes.get("name") == "csrf_token":
            self._form["token"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            if self._form["post"] and not self._form["token"]:
                self.problems.append("a POST form without csrf_token")
            self._form = None


def check_markup(html: str) -> list[str]:
    parser = MarkupCheck()
    parser.feed(html)
    parser.close()
    return parser.problems


# -- headers


def test_the_sign_in_page_headers(client: Any) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert check_headers(response.headers) == []
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_hsts_only_over_https(client: Any) -> None:
    plain = client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get("/login", base_url="https://localhost")
    assert check_headers(secure.headers, https=True) == []
    assert "max-age=31536000" in secure.headers["Strict-Transport-Security"]


def test_the_map_tile_server_is_the_only_other_image_source(web_db: Any) -> None:
    from web import create_app

    settings = replace(
        web_db.settings(),
        secure_cookies=False,
        tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png",
    )
    app = create_app(settings, TEST_CONFIG)
    try:
        response = app.test_client().get("/login")
        policy = _directives(response.headers["Content-Security-Policy"])
        assert policy["img-src"] == ["'self'", "data:", "https://*.tile.example.org"]
        assert policy["connect-src"] == ["'self'"]
    finally:
        app.extensions["jessr.database"].close()


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "anonymous")
def test_every_page_has_the_headers_and_strict_markup(
    csrf_app: Flask, world: World, role: str | None
) -> None:
    """On the app with CSRF on, so that forms render their tokens."""
    problems: list[str] = []
    for route in page_routes(csrf_app, world):
        client = csrf_app.test_client()
        if role is not None:
            sign_in(client, world.email(role))
        response = client.get(route.url)
        where = f"{role or 'anonymous'} GET {route.url} -> {response.status_code}"
        problems += [f"{where}: {p}" for p in check_headers(response.headers)]
        # Pages and data (HTML, JSON) may hold personal data; a script served by a
        # view (the service worker, public and data-free) may be cached.
        personal = response.mimetype in ("text/html", "application/json")
        if role is not None and response.status_code != 302 and personal:
            cache = response.headers.get("Cache-Control", "")
            if "no-store" not in cache:
                problems.append(f"{where}: signed in, Cache-Control {cache!r}")
        if response.mimetype == "text/html":
            problems += [f"{where}: {p}" for p in check_markup(response.get_data(as_text=True))]
        response.close()
    assert problems == [], "\n".join(problems)


def test_api_answers_have_the_headers_and_are_not_cached(signed_in: Any) -> None:
    response = signed_in("coordinator").get("/api/v1/me")
    assert response.status_code == 200
    assert check_headers(response.headers) == []
    assert "no-store" in response.headers["Cache-Control"]


def test_static_files_are_cacheable_and_sniff_proof(signed_in: Any) -> None:
    response = signed_in("volunteer").get("/static/css/jessr.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_the_markup_check_finds_what_the_csp_blocks() -> None:
    bad = (
        '<div style="color:red" onclick="x()"><script>alert(1)</script><style>p{}</style>'
        '<a href="javascript:x()">x</a><script src="//cdn.example/x.js"></script>'
        '<form method="post"><button>go</button></form></div>'
        '<script type="application/json">{"ok": 1}</script>'
        '<form method="post"><input type="hidden" name="csrf_token" value="t"></form>'
    )
    assert len(check_markup(bad)) == 7


# -- cookies


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("jessr_session=")]
    assert cookies, response.headers
    return cookies[-1]


def _sign_in_by_form(app: Flask, world: World) -> Any:
    client = app.test_client()
    response = client.post(
        "/login", data={"email": world.email("coordinator"), "password": PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    return response


def test_the_session_cookie_is_httponly_and_samesite(app: Flask, world: World) -> None:
    cookie = _session_cookie(_sign_in_by_form(app, world))
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"].strip().lower() == "samesite=lax"
    assert "secure" not in attributes  # JESSR_SECURE_COOKIES=0 in the tests


def test_the_session_cookie_is_secure_when_configured(web_db: Any, world: World) -> None:
    from web import create_app

    app = create_app(replace(web_db.settings(), secure_cookies=True), TEST_CONFIG)
    try:
        cookie = _session_cookie(_sign_in_by_form(app, world))
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in [part.strip().lower() for part in cookie.split(";")]
    finally:
        app.extensions["jessr.database"].close()


def test_secure_cookies_are_the_default(web_db: Any) -> None:
    from web import create_app

    app = create_app(replace(web_db.settings(), secure_cookies=None), TEST_CONFIG)
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
    finally:
        app.extensions["jessr.database"].close()


# -- errors


def test_an_unexpected_error_shows_the_error_page_not_a_traceback(
    web_db: Any, signed_in: Any
) -> None:
    app = make_app(web_db, PROPAGATE_EXCEPTIONS=False)
    try:
        from web.access import public

        @public
        def broken() -> str:
            raise RuntimeError("secret internals")

        app.add_url_rule("/broken", "broken", broken)
        response = app.test_client().get("/broken")
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Traceback" not in body and "secret internals" not in body
        assert "error-page" in body
        assert check_headers(response.headers) == []
    finally:
        app.extensions["jessr.database"].close()
