"""The entry point :func:`solve`: portfolio for one region, parts above a size."""

from __future__ import annotations

import math
import time

import numpy as np

from routing.multistart import can_fork_searches, solve_searches
from routing.params import SolveParams
from routing.portfolio import Steps, build_result, objective, repair, solve_portfolio, to_routes
from routing.problem import RoutingProblem
from routing.regional import GeoRoutingProblem, solve_geographic
from routing.result import RoutingResult

DEFAULT_PARAMS = SolveParams()
# The decomposed path (worker processes, their start-up and joins) aims to
# finish by this fraction of the limit.
FINISH_FRACTION = 0.95
# The in-process portfolio predicts its backends' set-up and keeps a sliver of
# each share for the repair (routing.portfolio), so it only needs a margin for
# building the result: FINISH_SECONDS + FINISH_SHARE x the limit, never more
# than the decomposed path's. With 5 % it returned at 9.3 s of 10 and 56.8 s
# of 60 on the public benchmarks, where PyVRP alone uses 10.05 and 60.05.
FINISH_SECONDS = 0.2
FINISH_SHARE = 0.01


def finish_margin(time_limit: float) -> float:
    """Seconds before ``time_limit`` at which the portfolio aims to be done."""
    return min((1 - FINISH_FRACTION) * time_limit, FINISH_SECONDS + FINISH_SHARE * time_limit)


def solve(
    problem: RoutingProblem | GeoRoutingProblem,
    params: SolveParams = DEFAULT_PARAMS,
    seed: int = 0,
    initial: Steps | None = None,
) -> RoutingResult:
    """Route ``problem``: maximise delivered value, then minimise distance.

    Problems with more than ``params.decompose_above`` shipments are split
    into geographic parts solved in parallel (:mod:`routing.decompose`);
    smaller ones go to the backend portfolio (:mod:`routing.portfolio`).
    A :class:`~routing.regional.GeoRoutingProblem` (coordinates, no matrix)
    with more than ``params.geographic_above`` locations or more than
    ``params.decompose_above`` shipments goes to :mod:`routing.regional`,
    which only ever builds per-part matrices; a smaller one is turned into a
    :class:`RoutingProblem` (same location indices) and solved as such.
    Every returned route is valid under :mod:`routing.evaluate`; every
    shipment not carried is in ``dropped`` with a reason. With
    ``params.iterations`` set, no decision reads the clock: the same problem,
    seed and parameters give the same result in any process, on any machine
    (``routing/README.md``, "Reproducible solves").

    ``initial`` is an optional warm start: vehicle id -> ordered steps
    ``(shipment id, "pickup" | "delivery")`` (deliveries before pickups at a
    stop; a depot-loaded shipment has only its delivery step), e.g.
    :func:`routing.portfolio.to_steps` of an earlier result. Unknown ids are
    skipped and invalid routes repaired (offending shipments dropped). It
    is a candidate like any backend's and seeds the backends that take a warm
    start; the result's delivered value is never below the repaired
    ``initial``'s (on the regional path, each part gets its share of it and
    the whole is kept if it beats the assembled parts).
    """
    started = time.monotonic()
    if isinstance(problem, GeoRoutingProblem):
        big = problem.num_locations > params.geographic_above
        many = len(problem.shipments) > params.decompose_above and len(problem.vehicles) > 1
        if big or many:
            return solve_geographic(problem, params, seed, initial)
        problem = problem.to_problem()
    warm = to_routes(problem, initial) if initial else None
    if len(problem.shipments) > params.decompose_above and len(problem.vehicles) > 1:
        from routing.decompose import solve_decomposed

        deadline = started + params.time_limit * FINISH_FRACTION
        if params.iterations is not None:
            deadline = math.inf  # iteration mode: nothing ends by the clock
        routes, backend, reasons = solve_decomposed(problem, params, seed, deadline)
        if warm:
            # The parts do not take a warm start: keep the better of the two.
            fixed = repair(problem, warm, np.zeros((0, 0), dtype=bool), [], deadline)
            if objective(problem, fixed) > objective(problem, routes):
                routes, backend = fixed, "initial"
    else:
        deadline = started + params.time_limit - finish_margin(params.time_limit)
        if params.iterations is not None:
            deadline = math.inf
        # One region in-process: the backends that can use the workers' cores do
        # (VROOM's search threads), one after another; or several independent
        # searches at once, one per core (params.searches).
        if params.searches > 1 and (can_fork_searches() or params.iterations is not None):
            routes, backend, reasons = solve_searches(
                problem, params, seed, deadline, warm, params.searches
            )
        else:
            routes, backend, reasons = solve_portfolio(
                problem, params, seed, deadline, warm, threads=params.workers
            )
    # "insertion" wins only when no backend finished: the greedy fallback then
    # ran against the clock, and past the deadline it stops trying, so what
    # it left out is down to time, not to the volunteers' capacity.
    timed_out = backend == "insertion" and time.monotonic() > deadline
    return build_result(problem, routes, reasons, backend, started, timed_out)
