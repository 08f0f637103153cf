"""Requests: ``POST /api/v1/requests`` registers one (an import row of its own),
``GET /api/v1/requests`` lists the organization's, ``GET /api/v1/requests/ID`` shows one.

Staff and coordinators act on their own organization's requests; an admin on any
(naming the organization of a new one). The household identifier is taken in,
pseudonymised, and never returned.
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from engine import intake
from engine.geocache import database_geocoder
from web.access import roles
from web.api import bp, errors
from web.api.schemas import (
    MAX_ID,
    REQUEST_EXAMPLE,
    RequestArgs,
    RequestIn,
    RequestOut,
    RequestPage,
)
from web.api.shapes import request_views
from web.db import db_session, settings

ROLES = ("admin", "coordinator", "staff")


@bp.route("/requests", methods=["POST"], endpoint="create_request", tags=["requests"])
@bp.arguments(RequestIn, example=REQUEST_EXAMPLE)
@bp.response(201, RequestOut, description="Registered.")
@bp.alt_response(
    200, schema=RequestOut, success=True, description="The same record was already registered."
)
@errors(400, 403, 409, 422)
@roles(*ROLES)
def create_request(values: dict[str, Any]) -> Any:
    """Register a request (the columns of a requests import file).

    A `ref` already registered in the organization is a conflict (409), unless
    everything sent is identical: then the stored request is answered (200), so a
    client may safely retry.
    """
    session = db_session()
    config = settings()
    done = intake.submit_request(
        session,
        current_user.actor,
        values,
        household_key=lambda: config.household_key,
        geocoder=database_geocoder(session, config.geocoder),
        duplicate_window_days=config.duplicate_window_days,
    )
    row = intake.get_request(session, current_user.actor, done.id)
    return request_views([row], current_user.actor)[0], 201 if done.created else 200


@bp.route("/requests", methods=["GET"], endpoint="list_requests", tags=["requests"])
@bp.arguments(RequestArgs, location="query")
@bp.response(200, RequestPage)
@errors(403, 422)
@roles(*ROLES)
def list_requests(args: dict[str, Any]) -> Any:
    """The organization's requests (an admin's: every organization's), newest first."""
    page, size = args["page"], args["page_size"]
    found = intake.list_requests(
        db_session(),
        current_user.actor,
        status=args.get("status"),
        category=args.get("category"),
        org=args.get("org"),
        offset=(page - 1) * size,
        limit=size,
    )
    items = request_views(found.items, current_user.actor)
    return {"items": items, "page": page, "page_size": size, "total": found.total}


@bp.route(
    f"/requests/<int(max={MAX_ID}):request_id>",
    methods=["GET"],
    endpoint="get_request",
    tags=["requests"],
)
@bp.response(200, RequestOut)
@errors(403, 404)
@roles(*ROLES)
def get_request(request_id: int) -> Any:
    """One request of the organization (another organization's: 404)."""
    actor = current_user.actor
    return request_views([intake.get_request(db_session(), actor, request_id)], actor)[0]
