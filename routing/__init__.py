"""Jessr routing: a pure pickup-and-delivery solver (no database, no web).

Build a :class:`RoutingProblem` (frozen, validated), call
:func:`solve` with :class:`SolveParams` and a seed, get a
:class:`RoutingResult` whose routes are all valid and whose ``dropped`` says
why each left-out shipment was left out. Objective, lexicographic: delivered
value first, then distance (+ vehicle fixed costs).
"""

from routing.evaluate import check_route, verify_route
from routing.parallel import solve_part
from routing.params import SolveParams
from routing.problem import GeoRoutingProblem, RoutingProblem, Shipment, Vehicle, great_circle_km
from routing.regional import solve_geographic
from routing.result import (
    Dropped,
    DropReason,
    Metrics,
    Reason,
    Route,
    RoutingResult,
    Status,
    Stop,
)
from routing.solver import solve

__all__ = [
    "DropReason",
    "Dropped",
    "GeoRoutingProblem",
    "Metrics",
    "Reason",
    "Route",
    "RoutingProblem",
    "RoutingResult",
    "Shipment",
    "SolveParams",
    "Status",
    "Stop",
    "Vehicle",
    "check_route",
    "great_circle_km",
    "solve",
    "solve_geographic",
    "solve_part",
    "verify_route",
]
