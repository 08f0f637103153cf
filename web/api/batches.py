"""Published batches and their routes: ``GET /api/v1/batches`` (coordinators,
admins), ``GET /api/v1/batches/ID/routes`` (a coordinator: its organization's
volunteers' routes; an admin: all; a volunteer: its own), ``GET
/api/v1/routes/mine?date=`` (a volunteer's routes of a date)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from flask_login import current_user

from engine import published
from web.access import roles
from web.api import bp, errors
from web.api.schemas import MAX_ID, BatchArgs, BatchPage, MineArgs, MineOut, RoutesOut
from web.db import db_session


@bp.route("/batches", methods=["GET"], endpoint="list_batches", tags=["batches"])
@bp.arguments(BatchArgs, location="query")
@bp.response(200, BatchPage)
@errors(403, 422)
@roles("admin", "coordinator")
def list_batches(args: dict[str, Any]) -> Any:
    """Published (and closed) batches, newest date first, with allocations by status."""
    page, size = args["page"], args["page_size"]
    found = published.published_batches(
        db_session(),
        current_user.actor,
        day=args.get("date"),
        offset=(page - 1) * size,
        limit=size,
    )
    items = [dataclasses.asdict(b) for b in found.items]
    return {"items": items, "page": page, "page_size": size, "total": found.total}


@bp.route(
    f"/batches/<int(max={MAX_ID}):batch_id>/routes",
    methods=["GET"],
    endpoint="batch_routes",
    tags=["batches"],
)
@bp.response(200, RoutesOut)
@errors(403, 404)
@roles("admin", "coordinator", "volunteer")
def batch_routes(batch_id: int) -> Any:
    """The routes of a published batch, stops in visit order, with each allocation's
    status and, on deliveries, the family's contact."""
    routes = published.batch_routes(db_session(), current_user.actor, batch_id)
    return {"routes": [dataclasses.asdict(r) for r in routes]}


@bp.route("/routes/mine", methods=["GET"], endpoint="my_routes", tags=["batches"])
@bp.arguments(MineArgs, location="query")
@bp.response(200, MineOut)
@errors(403, 422)
@roles("volunteer")
def my_routes(args: dict[str, Any]) -> Any:
    """The signed-in volunteer's routes of `date` (default today): one per published
    batch of the date that gives the volunteer a route."""
    day = args.get("date") or date.today()
    routes = published.my_routes(db_session(), current_user.actor, day)
    return {"date": day, "routes": [dataclasses.asdict(r) for r in routes]}
