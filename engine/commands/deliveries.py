"""``jessr delivery ALLOCATION picked-up|delivered|failed [--reason TEXT] [--by EMAIL]``."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr delivery``."""
    delivery = sub.add_parser(
        "delivery",
        help="report an allocation picked up, delivered or failed: "
        "jessr delivery BATCH/A17 picked-up|delivered|failed",
    )
    delivery.add_argument("allocation", metavar="ALLOCATION", help="BATCH_ID/PLAN_ID, e.g. 12/A17")
    delivery.add_argument("kind", choices=("picked-up", "delivered", "failed"))
    delivery.add_argument("--reason", metavar="TEXT", help="why it failed (required for failed)")
    delivery.add_argument(
        "--by",
        metavar="EMAIL",
        help="the user reporting (the route's volunteer, or a coordinator/admin of the "
        "organization); default: the operator running the command (JESSR_ACTOR)",
    )
    delivery.set_defaults(func=_delivery)


def _delivery(ns: argparse.Namespace) -> int:
    from engine.commands._common import run_operation
    from engine.deliveries import report_delivery

    result = run_operation(
        lambda settings, session: report_delivery(
            session, ns.allocation, ns.kind, settings.actor, reason=ns.reason, by=ns.by
        )
    )
    print(
        f"allocation {result.allocation} {result.status.replace('_', ' ')}: "
        f"{result.quantity} of lot {result.lot} for request {result.request} "
        f"(request {result.request_status.replace('_', ' ')})"
    )
    return 0
