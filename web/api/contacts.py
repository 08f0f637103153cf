"""``POST /api/v1/allocations/ID/contact``: the household's phone and address, for the
volunteer carrying the delivery, inside its contact window (``engine.reveals``).

A POST, not a GET: seeing a contact is an act, archived (``household.reveal``) each
time, as on the volunteer page.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_login import current_user

from engine import reveals
from web.access import roles
from web.api import bp, errors
from web.api.schemas import MAX_ID, ContactOut
from web.db import db_session


@bp.route(
    f"/allocations/<int(max={MAX_ID}):allocation_id>/contact",
    methods=["POST"],
    endpoint="reveal_contact",
    tags=["deliveries"],
)
@bp.response(200, ContactOut)
@errors(403, 404, 409)
@roles("volunteer")
def reveal_contact(allocation_id: int) -> Any:
    """The contact of a delivery on the volunteer's own route: from the batch's
    publication until a day after the delivery (else 409); another's: 404."""
    contact = reveals.reveal_contact(db_session(), current_user.actor, allocation_id)
    return dataclasses.asdict(contact)
