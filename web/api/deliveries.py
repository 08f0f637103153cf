"""``POST /api/v1/deliveries``: report an allocation picked up, delivered or failed.

``engine.deliveries.mark_allocation`` does it all, as for the volunteer page: the
route's volunteer reports on its own allocations, a coordinator on those of its
organization, an admin on any; an ``idempotency_key`` makes a retry safe (the same
key for the same report answers 200 with what was stored).
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from engine import deliveries, published
from web.access import roles
from web.api import bp, errors
from web.api.schemas import DELIVERY_EXAMPLE, DeliveryIn, DeliveryOut
from web.db import db_session


@bp.route("/deliveries", methods=["POST"], endpoint="report_delivery", tags=["deliveries"])
@bp.arguments(DeliveryIn, example=DELIVERY_EXAMPLE)
@bp.response(201, DeliveryOut, description="Recorded.")
@bp.alt_response(
    200,
    schema=DeliveryOut,
    success=True,
    description="Already recorded with this idempotency_key; nothing changed.",
)
@errors(400, 403, 404, 409, 422)
@roles("admin", "coordinator", "volunteer")
def report_delivery(values: dict[str, Any]) -> Any:
    """Report an allocation (`allocation` "BATCH/A17" or `allocation_id`) picked up,
    delivered or failed (with a `reason`).

    Illegal moves (delivered before picked up, twice delivered, on a batch not
    published) and a key already used for another report are conflicts (409).
    """
    session = db_session()
    allocation_id = values.get("allocation_id")
    if allocation_id is None:
        allocation_id = published.allocation_id(session, values["allocation"])
    done = deliveries.mark_allocation(
        session,
        current_user.actor,
        allocation_id,
        values["kind"],
        reason=values.get("reason"),
        idempotency_key=values.get("idempotency_key"),
    )
    body = {
        "allocation": done.allocation,
        "allocation_id": done.allocation_id,
        "status": done.status,
        "request_status": done.request_status,
        "quantity": done.quantity,
        "replayed": done.replayed,
    }
    return body, 200 if done.replayed else 201
