"""Donations (supply lots): ``POST /api/v1/donations`` registers one (an inventory
import row of its own), ``GET /api/v1/donations`` lists the organization's,
``GET /api/v1/donations/ID`` shows one. Scoped as requests are."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from engine import intake
from web.access import roles
from web.api import bp, errors
from web.api.schemas import (
    DONATION_EXAMPLE,
    MAX_ID,
    DonationArgs,
    DonationIn,
    DonationOut,
    DonationPage,
)
from web.api.shapes import lot_views
from web.db import db_session

ROLES = ("admin", "coordinator", "staff")


@bp.route("/donations", methods=["POST"], endpoint="create_donation", tags=["donations"])
@bp.arguments(DonationIn, example=DONATION_EXAMPLE)
@bp.response(201, DonationOut, description="Registered.")
@bp.alt_response(
    200, schema=DonationOut, success=True, description="The same lot was already registered."
)
@errors(400, 403, 409, 422)
@roles(*ROLES)
def create_donation(values: dict[str, Any]) -> Any:
    """Register a donation (the columns of an inventory import file): at a `site` of
    the organization, or at `lat`+`lon` in `region`.

    A `ref` already registered is a conflict (409) unless identical (200).
    """
    session = db_session()
    done = intake.submit_lot(session, current_user.actor, values)
    row = intake.get_lot(session, current_user.actor, done.id)
    return lot_views([row])[0], 201 if done.created else 200


@bp.route("/donations", methods=["GET"], endpoint="list_donations", tags=["donations"])
@bp.arguments(DonationArgs, location="query")
@bp.response(200, DonationPage)
@errors(403, 422)
@roles(*ROLES)
def list_donations(args: dict[str, Any]) -> Any:
    """The organization's lots (an admin's: every organization's), newest first."""
    page, size = args["page"], args["page_size"]
    found = intake.list_lots(
        db_session(),
        current_user.actor,
        category=args.get("category"),
        available=args.get("available"),
        org=args.get("org"),
        offset=(page - 1) * size,
        limit=size,
    )
    items = lot_views(found.items)
    return {"items": items, "page": page, "page_size": size, "total": found.total}


@bp.route(
    f"/donations/<int(max={MAX_ID}):lot_id>",
    methods=["GET"],
    endpoint="get_donation",
    tags=["donations"],
)
@bp.response(200, DonationOut)
@errors(403, 404)
@roles(*ROLES)
def get_donation(lot_id: int) -> Any:
    """One lot of the organization (another organization's: 404)."""
    return lot_views([intake.get_lot(db_session(), current_user.actor, lot_id)])[0]
