"""The routes of the app, generated from ``app.url_map``, with their URLs filled in
from the world (``tests/web/url_args.py``), for the cross-cutting tests (CSRF, no
state change on GET, headers, the browser's accessibility crawl)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for
from werkzeug.routing import Rule

from tests.web.url_args import ARGS
from tests.web.world import World
from web.access import PUBLIC, rule_of

ROLES = ("volunteer", "staff", "coordinator", "admin")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Route:
    """One rule of the URL map with the world's values for its arguments."""

    rule: Rule
    url: str
    allowed: frozenset[str]  # roles of its access rule; PUBLIC for anyone

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint

    @property
    def methods(self) -> frozenset[str]:
        return frozenset(self.rule.methods or ()) - {"HEAD", "OPTIONS"}

    @property
    def is_public(self) -> bool:
        return self.allowed is PUBLIC or "*" in self.allowed

    @property
    def is_api(self) -> bool:
        return self.url.startswith("/api/")

    @property
    def is_static(self) -> bool:
        return self.endpoint == "static" or self.endpoint.endswith(".static")

    def admits(self, role: str | None) -> bool:
        """True when ``role`` (None: anonymous) passes the access rule."""
        if self.is_public:
            return True
        return role is not None and role in self.allowed

    def __str__(self) -> str:
        return f"{self.endpoint} {self.url}"


def url_of(app: Flask, rule: Rule, world: World, side: str = "own") -> str:
    """The URL of ``rule`` with the world's object of ``side`` for each argument."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        own, other = ARGS[name]
        values[name] = (other if side == "other" and other is not None else own)(world)
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def routes(app: Flask, world: World) -> Iterator[Route]:
    """Every rule of the app (own-side URLs), sorted by path."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        allowed = rule_of(app, rule.endpoint)
        assert allowed is not None, f"{rule.endpoint} has no access rule"
        yield Route(rule, url_of(app, rule, world), allowed)


def writing_routes(app: Flask, world: World) -> list[Route]:
    """Rules accepting a state-changing method (POST, PUT, PATCH, DELETE)."""
    return [r for r in routes(app, world) if r.methods & WRITES]


def page_routes(app: Flask, world: World) -> list[Route]:
    """GET rules outside the API and the static files: the HTML pages."""
    return [
        r for r in routes(app, world) if "GET" in r.methods and not r.is_api and not r.is_static
    ]


def roles_for(route: Route) -> list[str | None]:
    """The roles admitted to ``route`` (None: anonymous, for a public route)."""
    if route.is_public:
        return [None, *ROLES]
    return [role for role in ROLES if role in route.allowed]
