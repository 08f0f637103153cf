"""A GET never changes state: every GET route × every role × own and another
organization's objects, generated from ``app.url_map``.

After each request the whole database is compared with before: every table of
the models and the archive head (:mod:`tests.web.dbstate`). Left out, and only
those: ``user_sessions.last_seen_at`` and ``api_tokens.last_used_at``, the
clocks of the idle timeout and of token use, which any signed-in request may
move. A session started or ended, a token created or revoked, still count.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.web.dbstate import snapshot
from tests.web.routes import ROLES, routes, url_of
from tests.web.world import World


def _scoped(rule: Any) -> bool:
    from tests.web.url_args import ARGS

    return any(ARGS[name][1] is not None for name in rule.arguments)


def changes_on_get(
    app: Flask, world: World, signed_in: Any, web_db: Any, role: str | None
) -> list[str]:
    """Every GET of the URL map as ``role``, plain and with ``?lang=ar``: what changed."""
    problems: list[str] = []
    for route in routes(app, world):
        if "GET" not in route.methods:
            continue
        for side in ("own", "other"):
            if side == "other" and not _scoped(route.rule):
                continue
            url = url_of(app, route.rule, world, side)
            for query in ("", "?lang=ar"):
                client = signed_in(role)
                before = snapshot(web_db.engine)
                response = client.get(url + query)
                response.close()
                changed = before.differences(snapshot(web_db.engine))
                if changed:
                    where = f"{role or 'anonymous'} GET {url}{query} ({side})"
                    problems.append(f"{where} -> {response.status_code}: {changed}")
    return problems


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "anonymous")
def test_no_get_changes_the_database(
    app: Flask, world: World, signed_in: Any, web_db: Any, role: str | None
) -> None:
    problems = changes_on_get(app, world, signed_in, web_db, role)
    assert problems == [], "\n".join(problems)


def test_the_check_catches_a_get_that_writes(
    app: Flask, world: World, signed_in: Any, web_db: Any
) -> None:
    """The control: a GET route that records an archive event is reported."""
    from engine import audit
    from web.access import public
    from web.db import db_session

    @public
    def careless() -> str:
        audit.record(db_session(), "test", "test.touch", "test", 1)
        return "ok"

    app.add_url_rule("/careless", "careless", careless)
    problems = changes_on_get(app, world, signed_in, web_db, None)
    assert problems and all("/careless" in p for p in problems), problems
    assert "archive head" in problems[0] and "audit_events: " in problems[0]


def test_opening_a_sign_in_link_does_not_use_it(app: Flask, world: World, web_db) -> None:
    """Link previews (messaging apps fetch URLs) must not spend a one-time link."""
    from engine import accounts

    with web_db.session() as s:
        coordinator = accounts.find_user(s, world.email("coordinator"))
        volunteer = accounts.find_user(s, world.email("volunteer"))
        assert coordinator is not None and volunteer is not None
        token = accounts.create_login_link(s, accounts.actor_of(coordinator), volunteer)
        s.commit()
    before = snapshot(web_db.engine)
    client = app.test_client()
    for _ in range(3):
        page = client.get(f"/login/link/{token}")
        assert page.status_code == 200
    assert before.differences(snapshot(web_db.engine)) == []
    assert client.post(f"/login/link/{token}").status_code == 302  # still good for one use
