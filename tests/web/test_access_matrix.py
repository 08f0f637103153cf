"""Every route of the URL map × every role × own vs another organization's objects.

Generated from ``app.url_map``: a route added without an access rule, or with an
argument the matrix cannot fill (``tests/web/url_args.py``), fails here. For each
route and method:

- a route without a declared rule fails;
- anonymous: public routes answer, others redirect to ``/login`` (pages) or 401 (API);
- a role outside the rule gets 403 or 404, never the content;
- a role inside the rule is not refused (no 401/403) and never gets a 5xx;
- a role inside the rule, other than admin, asking for another organization's
  object gets 403 or 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.web.url_args import ARGS
from tests.web.world import World
from web.access import PUBLIC, rule_of

ROLES = (None, "volunteer", "staff", "coordinator", "admin")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def _url(app: Flask, rule: Rule, world: World, side: str) -> str | None:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        own, other = ARGS[name]
        if side == "other":
            if other is None:
                values[name] = own(world)
            else:
                values[name] = other(world)
        else:
            values[name] = own(world)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _scoped(rule: Rule) -> bool:
    return any(ARGS[name][1] is not None for name in rule.arguments)


def test_every_route_declares_an_access_rule_and_fillable_arguments(app: Flask) -> None:
    missing = [r.endpoint for r in _routes(app) if rule_of(app, r.endpoint) is None]
    assert missing == [], f"routes without an access rule: {missing}"
    unknown = sorted({a for r in _routes(app) for a in r.arguments if a not in ARGS})
    assert unknown == [], f"add these URL arguments to tests/web/url_args.py: {unknown}"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_role_matrix(app: Flask, world: World, signed_in: Any, role: str | None) -> None:
    problems: list[str] = []
    for rule in _routes(app):
        declared = rule_of(app, rule.endpoint)
        assert declared is not None
        for method in sorted(set(METHODS) & (rule.methods or set())):
            for side in ("own", "other"):
                if side == "other" and not _scoped(rule):
                    continue
                client = signed_in(role)  # a fresh session: earlier calls may sign out
                url = _url(app, rule, world, side)
                response = client.open(url, method=method)
                code = response.status_code
                location = response.headers.get("Location", "")
                response.close()  # static files are streamed from open files
                where = f"{role or 'anonymous'} {method} {url} ({side}) -> {code}"
                if code >= 500:
                    problems.append(f"{where}: server error")
                elif declared is PUBLIC:
                    continue
                elif role is None:
                    expected = (
                        code == 401
                        if url.startswith("/api/")
                        else (code == 302 and "/login" in location)
                    )
                    if not expected:
                        problems.append(f"{where}: anonymous not sent to sign in")
                elif role not in declared:
                    if code not in (403, 404):
                        problems.append(f"{where}: role outside {sorted(declared)} not refused")
                elif code in (401, 403):
                    if side == "own":
                        problems.append(f"{where}: allowed role refused")
                elif side == "other" and role != "admin" and code not in (403, 404):
                    problems.append(f"{where}: another organization's object reached")
    assert problems == [], "\n".join(problems)
