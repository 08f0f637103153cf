"""``/coordinator/``: the day's dashboard (needs, stock, volunteers, a map).

The figures come from :func:`engine.dashboard.day_dashboard`; this view reads the
query string (``?date=YYYY-MM-DD``, and ``?org=ID`` for an admin), shapes the
map's data and renders. Tables carry the figures; the bars beside them are SVG
drawn on the server (no chart script).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine import dashboard, listings
from engine.dashboard import Dashboard
from web import nav
from web.access import roles
from web.coordinator import bp, choices
from web.coordinator.forms import DayFilter
from web.db import db_session, settings
from web.labels import category_name, number

MAP_COLOURS = {"need": "#a4161a", "stock": "#1d4ed8", "home": "#1b1f24"}
DRAW_ORDER = {"home": 0, "stock": 1, "need": 2}
EVERYONE = ("coordinator", "staff", "admin")


def add_menu(app: Flask) -> None:
    """The menu entries of the dashboard and the entry pages."""
    nav.add(app, "coordinator.index", _l("Today"), roles=EVERYONE, order=10)
    nav.add(app, "coordinator.requests", _l("Requests"), roles=EVERYONE, order=20)
    nav.add(app, "coordinator.lots", _l("Donations"), roles=EVERYONE, order=30)
    nav.add(
        app, "coordinator.volunteers", _l("Volunteers"), roles=("coordinator", "admin"), order=40
    )


def map_data(board: Dashboard) -> dict[str, Any]:
    """The JSON the map script draws (``static/js/map.js``): needs, stock, homes."""
    stops = []
    # Homes first, needs last: a need drawn on top of a lot at the same place stays visible.
    for point in sorted(board.points, key=lambda p: DRAW_ORDER[p.kind]):
        if point.kind == "home":
            label = _("Volunteer %(ref)s", ref=f"{point.org}/{point.ref}")
        else:
            label = f"{point.org}/{point.ref} · {category_name(point.category)} × " + number(
                point.units
            )
        stops.append(
            {
                "lat": point.lat,
                "lon": point.lon,
                "kind": point.kind,
                "label": label,
                "color": MAP_COLOURS[point.kind],
            }
        )
    return {
        "tiles": settings().tile_url,
        "attribution": _("© OpenStreetMap contributors"),
        "stops": stops,
    }


@bp.route("/")
@roles(*EVERYONE)
def index() -> Any:
    """The day's figures for the user's organization (an admin: all, or one)."""
    actor = current_user.actor
    session = db_session()
    filters = DayFilter(request.args)
    catalogue = listings.catalogue(session, actor)
    filters.org.choices = choices.organizations(catalogue, _("All organizations"))
    status = 200
    if not filters.validate():
        status = 400  # a malformed date or organization: said on the form, today shown
        filters.date.data = None
        filters.org.data = None
    # Another organization than one's own is not found (404) for all but an admin.
    board = dashboard.day_dashboard(session, actor, filters.day(), org_id=filters.org.data)
    org_name = None
    if board.org_id is not None:
        org_name = next(
            (f"{o.name} ({o.code})" for o in catalogue.organizations if o.id == board.org_id),
            None,
        )
    return render_template(
        "coordinator/index.html",
        board=board,
        filters=filters,
        org_name=org_name,
        map_data=map_data(board),
        can_add_volunteers=actor.role in ("coordinator", "admin"),
    ), status
