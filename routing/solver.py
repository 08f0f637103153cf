"""The entry point :func:`solve`: portfolio for one region, parts above a size."""

from __future__ import annotations

import time

from routing.params import SolveParams
from routing.portfolio import build_result, solve_portfolio
from routing.problem import RoutingProblem
from routing.result import RoutingResult

DEFAULT_PARAMS = SolveParams()


def solve(
    problem: RoutingProblem, params: SolveParams = DEFAULT_PARAMS, seed: int = 0
) -> RoutingResult:
    """Route ``problem``: maximise delivered value, then minimise distance.

    Problems with more than ``params.decompose_above`` shipments are split
    into geographic parts solved in parallel (:mod:`routing.decompose`);
    smaller ones go to the backend portfolio (:mod:`routing.portfolio`).
    Every returned route is valid under :mod:`routing.evaluate`; every
    shipment not carried is in ``dropped`` with a reason. With
    ``params.max_iterations`` set, the same seed gives the same result.
    """
    started = time.monotonic()
    deadline = started + params.time_limit
    if len(problem.shipments) > params.decompose_above and len(problem.vehicles) > 1:
        from routing.decompose import solve_decomposed

        routes, backend, reasons = solve_decomposed(problem, params, seed, deadline)
    else:
        routes, backend, reasons = solve_portfolio(problem, params, seed, deadline)
    return build_result(problem, routes, reasons, backend, started)
