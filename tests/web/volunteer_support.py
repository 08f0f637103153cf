"""What the volunteer page tests share: the world's day, a clock inside the contact
window, the household data that must never reach a volunteer's page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select

from engine import reveals
from engine.models import Allocation, Batch, Household
from engine.models import Request as RequestRow
from tests.platform.conftest import TestDatabase
from tests.web.world import DAY, World

ROUTE = f"/volunteer/?date={DAY.isoformat()}"
# Published the evening before the day; the page is opened on the day.
PUBLISHED = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
ON_THE_DAY = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def open_window(database: TestDatabase, world: World, monkeypatch: Any) -> None:
    """Make the world's published batch published the evening before DAY and the
    clock read DAY 09:00 UTC: inside every delivery's contact window. (The world is
    built with the real clock, so its batch was published after its day.)"""
    with database.session() as s:
        s.get(Batch, world.published_batch).published_at = PUBLISHED
        s.commit()
    monkeypatch.setattr(reveals, "now", lambda: ON_THE_DAY)


def allocations_of(database: TestDatabase, world: World, side: str = "own") -> list[Allocation]:
    """The published batch's allocations of the side's volunteer, by id."""
    with database.session() as s:
        return list(
            s.execute(
                select(Allocation)
                .where(
                    Allocation.batch_id == world.published_batch,
                    Allocation.volunteer_id == world.ids[side]["volunteer_id"],
                )
                .order_by(Allocation.id)
            ).scalars()
        )


def household_secrets(database: TestDatabase) -> list[str]:
    """Every household pseudonym, request name and request ref (ORG-qualified or not)
    of the world: none may appear in a volunteer's answer."""
    with database.session() as s:
        secrets = [p for p in s.execute(select(Household.pseudonym)).scalars()]
        for name, ref in s.execute(select(RequestRow.name, RequestRow.ref)):
            if name:
                secrets.append(name)
            secrets.append(ref)
    return secrets


def household_phones(database: TestDatabase) -> list[str]:
    """The requests' phone numbers (shown only by a reveal)."""
    with database.session() as s:
        return [p for p in s.execute(select(RequestRow.phone)).scalars() if p]


RANDOM_TOKENS = re.compile(
    r'(name="csrf-token" content="[^"]*"|name="csrf_token" value="[^"]*"|'
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)


def assert_no_household_data(text: str, secrets: list[str]) -> None:
    """No pseudonym, name or request ref in ``text`` (random tokens set aside, where a
    short ref like R1 could occur by chance); no household field by name."""
    cleaned = RANDOM_TOKENS.sub("", text)
    for secret in secrets:
        if len(secret) <= 3:
            assert not re.search(rf"(?<![\w]){re.escape(secret)}(?![\w])", cleaned), secret
        else:
            assert secret not in cleaned, secret
    for word in ("pseudonym", "household_id", "data-household", "request_id"):
        assert word not in cleaned


class _Items(HTMLParser):
    """The route page's stops and items, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.stops: list[dict[str, str]] = []
        self.items: list[dict[str, str]] = []
        self._in: str | None = None  # "what" or "arrival" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "li" and "stop" in classes:
            self.stops.append({"number": a["data-stop"], "arrival": ""})
        elif tag == "li" and "item" in classes:
            self.items.append(
                {
                    "allocation": a["data-allocation"],
                    "action": a["data-action"],
                    "status": a["data-status"],
                    "what": "",
                }
            )
        elif tag == "p" and "what" in classes:
            self._in = "what"
        elif tag == "span" and "arrival" in classes:
            self._in = "arrival"

    def handle_endtag(self, tag: str) -> None:
        if (tag, self._in) in (("p", "what"), ("span", "arrival")):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "what":
            self.items[-1]["what"] += data
        elif self._in == "arrival":
            self.stops[-1]["arrival"] += data


def route_items(html: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(stops, items) of a route page: each stop's number and arrival text, each
    item's allocation id, action, status and "what" text (whitespace collapsed)."""
    parser = _Items()
    parser.feed(html)
    for item in parser.items:
        item["what"] = " ".join(item["what"].split())
    for stop in parser.stops:
        stop["arrival"] = " ".join(stop["arrival"].split())
    return parser.stops, parser.items
