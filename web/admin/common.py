"""Helpers shared by the admin views: the acting account, choices for selects."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from sqlalchemy import select

from engine.access import Actor
from engine.models.reference import Organization, Region
from web.db import db_session
from web.labels import region_name


def actor() -> Actor:
    """The signed-in account as the services see it."""
    return current_user.actor


def region_choices() -> list[tuple[str, str]]:
    """Regions by name in the page's language, with their code."""
    codes = db_session().execute(select(Region.code).order_by(Region.code)).scalars()
    return sorted(((c, f"{region_name(c)} ({c})") for c in codes), key=lambda c: c[1])


def org_choices(blank: Any) -> list[tuple[str, Any]]:
    """Organizations by code, after a first empty choice labelled ``blank``."""
    rows = db_session().execute(
        select(Organization.code, Organization.name).order_by(Organization.code)
    )
    return [("", blank), *((code, f"{code} — {name}") for code, name in rows)]
