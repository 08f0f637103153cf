"""Helpers of the admin page tests: read tables and fields out of the HTML, count rows."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import func, select

from engine.db.base import Base
from engine.models import AuditEvent


class _Table(HTMLParser):
    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.depth = 0  # > 0 inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if self.depth:
                self.depth += 1
            elif dict(attrs).get("id") == self.table_id:
                self.depth = 1
        elif self.depth and tag == "tbody":
            self.in_body = True
        elif self.depth and self.in_body and tag == "tr":
            self.rows.append([])
        elif self.depth and self.in_body and tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of ``<table id=table_id>``, each a list of cell texts."""
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def field_errors(html: str, field_id: str) -> list[str]:
    """The error lines shown under the field ``field_id``."""
    found = re.search(rf'<div id="{re.escape(field_id)}-error">(.*?)</div>', html, re.S)
    if not found:
        return []
    return [unescape(m) for m in re.findall(r'<p class="field-error">(.*?)</p>', found.group(1))]


def counts(session: Any) -> dict[str, int]:
    """Rows per table, the uploads' own bookkeeping aside (what "nothing written" compares)."""
    skip = {"user_sessions", "api_tokens"}  # signing in writes these
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in Base.metadata.sorted_tables
        if t.name not in skip
    }


def events(session: Any, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.execute(query).scalars())
