"""One piece: a problem solved whole, by the portfolio or by several searches.

:func:`solve_piece` is what :func:`routing.solve` runs on a problem small
enough for one model, and what a part of the geographic decomposition runs
(:func:`routing.parallel.solve_part`). With an executor and
``params.searches > 1`` the searches of :mod:`routing.multistart` run at
once; otherwise the portfolio runs in this process, its backends using
``params.workers`` threads (VROOM's search).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

from routing.backends import Routes
from routing.evaluate import to_route
from routing.multistart import solve_searches
from routing.params import SolveParams
from routing.portfolio import Steps, solve_portfolio, to_routes
from routing.problem import RoutingProblem
from routing.record import expect, new
from routing.result import RoutingResult, build_result

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


def solve_piece(
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    initial: Steps | None = None,
    executor: Executor | None = None,
    started: float | None = None,
) -> RoutingResult:
    """Solve ``problem`` in one piece (see :func:`routing.solve` for ``initial``).

    ``started`` is the ``time.monotonic()`` the caller's time limit counts
    from (default: now). In time mode the result carries its ``record``
    (:mod:`routing.record`); with ``params.replay`` set, the recorded run is
    re-done: its searches, or its one portfolio run, without the clock.
    """
    started = time.monotonic() if started is None else started
    warm = to_routes(problem, initial) if initial else None
    deadline = started + params.time_limit - finish_margin(params.time_limit)
    replay = params.replay
    if params.iterations is not None or replay is not None:
        deadline = math.inf  # iteration mode or a replay: nothing ends by the clock
    record = new("piece") if params.iterations is None and replay is None else None
    if replay is not None:
        expect(replay, "piece")
        several = "searches" in replay
    else:
        several = params.searches > 1 and (executor is not None or params.iterations is not None)
    if several:
        # Several independent searches at once, one per core; in iteration
        # mode without an executor, one after another in this process (the
        # same searches, so the same plan whatever the executor).
        routes, backend, reasons = solve_searches(
            problem, params, seed, deadline, warm, params.searches, executor, record
        )
    else:
        # In-process: the backends that can use the workers' cores do (VROOM's
        # search threads), one after another.
        part: dict | None = {} if record is not None else None
        one = params if replay is None else replace(params, replay=replay["portfolio"])
        routes, backend, reasons = solve_portfolio(
            problem, one, seed, deadline, warm, threads=params.workers, record=part
        )
        if record is not None:
            record["portfolio"] = part
    if replay is not None:
        timed_out = bool(replay["timed_out"])
    else:
        # "insertion" wins only when no backend finished: the greedy fallback then
        # ran against the clock, and past the deadline it stops trying, so what
        # it left out is down to time, not to the volunteers' capacity.
        timed_out = backend == "insertion" and time.monotonic() > deadline
    if record is not None:
        record["timed_out"] = timed_out
    result = result_of(problem, routes, reasons, backend, started, timed_out)
    return replace(result, record=record)


def result_of(
    problem: RoutingProblem,
    routes: Routes,
    reasons: Sequence[str | None],
    backend: str,
    started: float,
    timed_out: bool = False,
) -> RoutingResult:
    """:func:`routing.result.build_result` of valid node-code ``routes``.

    ``timed_out``: every shipment left out (and feasible alone) was left out
    for lack of time.
    """
    out = [to_route(problem, v, nodes) for v, nodes in sorted(routes.items()) if nodes]
    late = range(len(problem.shipments)) if timed_out else ()
    return build_result(problem, out, reasons, backend, started, late)
