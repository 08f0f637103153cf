"""Names shown to people: regions and categories in the page's language (from the
reference data in ``data/``), statuses and reasons translated, numbers and dates
formatted by Babel. Available in every template."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, g
from flask_babel import format_date, format_datetime, format_decimal, format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from engine.models.reference import Category, Region
from web.db import db_session, settings
from web.i18n import current_language

STATUSES = {
    "open": _l("open"),
    "allocated": _l("allocated"),
    "in_transit": _l("in transit"),
    "delivered": _l("delivered"),
    "closed": _l("closed"),
    "cancelled": _l("cancelled"),
    "planned": _l("planned"),
    "picked_up": _l("picked up"),
    "failed": _l("failed"),
    "draft": _l("draft"),
    "published": _l("published"),
    "superseded": _l("superseded"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
}
REASONS = {
    # matching.UnmetReason and routing.DropReason, as the plan writes them
    "no_supply": _l("no stock of this category within reach"),
    "outcompeted": _l("the stock went to more urgent needs"),
    "no_volunteers": _l("no volunteer available that day"),
    "no_volunteer_capacity": _l("every volunteer's route is full"),
    "outside_shift": _l("no volunteer can do it within their shift"),
    "window": _l("its time window cannot be met"),
    "too_heavy": _l("too heavy for any vehicle"),
    "unreachable": _l("no volunteer can reach it"),
    "time_limit": _l("not routed within the time limit"),
}


def _names(model: Any, key: str) -> dict[str, dict[str, str]]:
    cache = g.setdefault("_label_cache", {})
    if key not in cache:
        rows = db_session().execute(
            select(model.code if key == "regions" else model.id, model.names)
        )
        cache[key] = {code: dict(names or {}) for code, names in rows}
    return cache[key]


def region_name(code: str | None) -> str:
    """The region's name in the page's language (its code when unknown)."""
    if not code:
        return ""
    names = _names(Region, "regions").get(code)
    return (names or {}).get(current_language()) or (names or {}).get("en") or code


def category_name(category_id: str | None) -> str:
    """The category's name in the page's language (its id when unknown)."""
    if not category_id:
        return ""
    names = _names(Category, "categories").get(category_id)
    return (names or {}).get(current_language()) or (names or {}).get("en") or category_id


def status_label(status: str | None) -> str:
    return str(STATUSES.get(status or "", status or ""))


def reason_label(reason: str | None) -> str:
    return str(REASONS.get(reason or "", (reason or "").replace("_", " ")))


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return ""
    fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return format_decimal(value, format=fmt)


def when(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, fmt)
    return format_date(value, fmt)


def clock(value: Any) -> str:
    return "" if value is None else format_time(value, "short")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        region_name=region_name,
        category_name=category_name,
        status_label=status_label,
        reason_label=reason_label,
        number=number,
        when=when,
        clock=clock,
        map_tiles=lambda: settings().tile_url,
    )
