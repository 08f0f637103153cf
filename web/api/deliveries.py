"""``POST /api/v1/deliveries``: report an allocation picked up, delivered or failed.

The route's volunteer reports on its own allocations; a coordinator or admin on
those of its organization (``engine.published.report``, over
``engine.deliveries.report_delivery``). An ``idempotency_key`` makes a retry safe:
the same key for the same report answers 200 with what was stored.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_login import current_user

from engine import published
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
    published) are conflicts (409).
    """
    done = published.report(
        db_session(),
        current_user.actor,
        kind=values["kind"],
        allocation_id=values.get("allocation_id"),
        allocation_ref=values.get("allocation"),
        reason=values.get("reason"),
        idempotency_key=values.get("idempotency_key"),
    )
    return dataclasses.asdict(done), 200 if done.replayed else 201
