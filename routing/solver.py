"""The entry point :func:`solve`: portfolio for one region, parts above a size.

The top of the package: nothing in ``routing`` imports this module but
``routing/__init__.py``. Below it, :mod:`routing.piece` solves a problem in
one piece, :mod:`routing.decompose` and :mod:`routing.regional` split a large
one into parts that :mod:`routing.parallel` runs on the caller's executor.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from routing.decompose import solve_decomposed
from routing.params import SolveParams
from routing.piece import FINISH_FRACTION, result_of, solve_piece
from routing.portfolio import Steps, objective, repair, to_routes
from routing.problem import GeoRoutingProblem, RoutingProblem
from routing.record import new
from routing.regional import solve_geographic
from routing.result import RoutingResult

DEFAULT_PARAMS = SolveParams()


def solve(
    problem: RoutingProblem | GeoRoutingProblem,
    params: SolveParams = DEFAULT_PARAMS,
    seed: int = 0,
    initial: Steps | None = None,
    *,
    executor: Executor | None = None,
) -> RoutingResult:
    """Route ``problem``: maximise delivered value, then minimise distance.

    Problems with more than ``params.decompose_above`` shipments are split
    into geographic parts solved in parallel (:mod:`routing.decompose`);
    smaller ones go to the backend portfolio (:mod:`routing.portfolio`).
    A :class:`~routing.problem.GeoRoutingProblem` (coordinates, no matrix)
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

    ``executor`` runs what can run at once: the parts of a decomposed
    problem (``params.workers`` at a time) and the extra searches of
    ``params.searches`` (:mod:`routing.multistart`). ``None``: everything
    runs in this process, one part after another and one search only; the
    solver never starts processes itself (:mod:`engine.executors` makes a
    pool where forking is safe).
    """
    started = time.monotonic()
    if isinstance(problem, GeoRoutingProblem):
        big = problem.num_locations > params.geographic_above
        many = len(problem.shipments) > params.decompose_above and len(problem.vehicles) > 1
        if big or many:
            return solve_geographic(problem, params, seed, initial, executor)
        problem = problem.to_problem()
    if len(problem.shipments) <= params.decompose_above or len(problem.vehicles) <= 1:
        return solve_piece(problem, params, seed, initial, executor, started)
    deadline = started + params.time_limit * FINISH_FRACTION
    if params.iterations is not None or params.replay is not None:
        deadline = math.inf  # iteration mode or a replay: nothing ends by the clock
    record = new("decomposed") if params.iterations is None and params.replay is None else None
    routes, backend, reasons = solve_decomposed(problem, params, seed, deadline, executor, record)
    if initial:
        # The parts do not take a warm start: keep the better of the two.
        warm = to_routes(problem, initial)
        fixed = repair(problem, warm, np.zeros((0, 0), dtype=bool), [], deadline)
        if objective(problem, fixed) > objective(problem, routes):
            routes, backend = fixed, "initial"
    # Leftovers count as the fleet's: the time_limit reason is the portfolio's,
    # for when its greedy fallback ran out of time (routing.piece).
    return replace(result_of(problem, routes, reasons, backend, started), record=record)
