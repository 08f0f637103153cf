"""Parts of a decomposed day on an executor: the process plumbing.

:func:`run_parts` hands the parts of :mod:`routing.regional` and
:mod:`routing.decompose` to the caller's executor (a process pool made by
:mod:`engine.executors`; routing never starts processes itself), or solves
them in this process one after another when there is none. Each part is a
small picklable problem (a :class:`~routing.problem.GeoRoutingProblem` with
only its own coordinates, or a :class:`~routing.problem.RoutingProblem` on
its compacted matrix), so shipping it to a worker costs little whatever the
executor's start method; :func:`solve_part` is what a worker runs (it could
be a Celery task as it is).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import replace
from typing import Any

from routing.backends import Routes
from routing.params import SolveParams
from routing.piece import solve_piece
from routing.portfolio import Steps, to_routes, to_steps
from routing.problem import GeoRoutingProblem, RoutingProblem
from routing.result import RoutingResult

log = logging.getLogger(__name__)

PART_OVERHEAD = 0.3  # s per part outside its solve: matrix build, pickling, IPC
MIN_PART_SECONDS = 0.4  # below this a part is not started (its shipments stay for repair)
UNBOUNDED = 10**9  # decompose_above/geographic_above inside a part: never split again


def solve_part(
    part_problem: GeoRoutingProblem | RoutingProblem,
    params: SolveParams,
    seed: int,
    initial: Steps | None = None,
) -> RoutingResult:
    """Solve one part in full (its own matrix, the backend portfolio).

    Top-level and fed only picklable values, so it runs in a worker process
    (or, later, as a Celery task). Never decomposes again.
    """
    problem = (
        part_problem.to_problem() if isinstance(part_problem, GeoRoutingProblem) else part_problem
    )
    # workers=1, searches=1: the parts already run one per worker process; a
    # part's backends must not start threads or searches of their own on the
    # same cores.
    flat = replace(
        params, decompose_above=UNBOUNDED, geographic_above=UNBOUNDED, workers=1, searches=1
    )
    return solve_piece(problem, flat, seed, initial)


def run_parts(
    executor: Executor | None,
    parts: Sequence[GeoRoutingProblem | RoutingProblem],
    params: SolveParams,
    seed: int,
    deadline: float,
    initials: Sequence[Steps | None] | None = None,
    record: list[dict] | None = None,
    replay: Sequence[Mapping[str, Any]] | None = None,
) -> list[RoutingResult | None]:
    """Solve ``parts`` (on ``executor``, else in-process) so all end by ``deadline``.

    ``params.workers`` parts run at once on the executor (give it at least
    that many workers). A part is submitted when one finishes, with the time
    left divided by the waves left (minus the per-part overhead): balanced
    parts share the time evenly, and an overrun shrinks the parts after it
    rather than pushing the deadline. Parts that no longer fit are not
    started (``None``); a part that fails is logged and counts as ``None``.
    If the executor breaks (a worker killed) or is shut down, the parts not
    yet submitted are solved in this process. In iteration mode
    (``params.iterations``) every part runs with the same parameters and no
    deadline, and a part whose worker failed is solved again here: its result
    does not depend on the worker that ran it or on when the others finished.

    In time mode, ``record`` (a list) gets one entry per part, by index:
    ``{"part", "status", "record"}`` with ``status`` ``"solved"``,
    ``"not_started"`` (time) or ``"failed"`` and the part's own record
    (:mod:`routing.record`). ``replay`` (such a list) re-does exactly the
    parts solved then, each from its record, as iteration mode runs parts.
    """
    if replay is not None and len(replay) != len(parts):
        raise ValueError(
            f"replay: the search record has {len(replay)} parts, this problem {len(parts)}"
        )
    counted = params.iterations is not None or replay is not None
    slots = params.workers if executor is not None else 1
    results: list[RoutingResult | None] = [None] * len(parts)
    pending = list(range(len(parts)))
    if replay is not None:
        pending = [i for i in pending if replay[i]["status"] == "solved"]
    running: dict[Future[RoutingResult], int] = {}
    begun: set[int] = set()
    while pending or running:
        while pending and len(running) < slots:
            part_params = params  # iteration mode: every part gets all the iterations
            if replay is not None:
                part_params = replace(params, replay=replay[pending[0]]["record"])
            elif not counted:
                waves = math.ceil(len(pending) / slots)
                budget = (deadline - time.monotonic()) / waves - PART_OVERHEAD
                if budget < MIN_PART_SECONDS:
                    log.info("regional: %d parts not started (time)", len(pending))
                    pending.clear()
                    break
                part_params = replace(params, time_limit=budget)
            i = pending.pop(0)
            begun.add(i)
            warm = initials[i] if initials else None
            if executor is not None:
                try:
                    running[executor.submit(solve_part, parts[i], part_params, seed, warm)] = i
                    continue
                except Exception:  # BrokenExecutor, or shut down: go on in-process
                    log.exception("regional: the executor failed; parts go on in-process")
                    executor, slots = None, 1
            try:
                results[i] = solve_part(parts[i], part_params, seed, warm)
            except Exception:  # one failing part must not sink the day
                log.exception("regional: part %d failed", i)
        if running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                i = running.pop(fut)
                try:
                    results[i] = fut.result()
                except Exception:
                    log.exception("regional: part %d failed", i)
                    if counted:  # the same part, here: the plan must not depend on it
                        again = (
                            params
                            if replay is None
                            else replace(params, replay=replay[i]["record"])
                        )
                        results[i] = _solve_here(parts[i], again, seed, initials, i)
    if replay is not None:
        for i, row in enumerate(replay):
            if row["status"] == "solved" and results[i] is None:
                raise RuntimeError(f"replay: part {i} failed where the recorded run solved it")
    if record is not None:
        record.extend(_part_row(i, res, i in begun) for i, res in enumerate(results))
    return results


def _part_row(i: int, result: RoutingResult | None, begun: bool) -> dict:
    """Part ``i``'s entry in a search record."""
    if result is None:
        return {"part": i, "status": "failed" if begun else "not_started", "record": None}
    return {"part": i, "status": "solved", "record": result.record}


def part_routes(
    problem: GeoRoutingProblem | RoutingProblem, results: Sequence[RoutingResult | None]
) -> Routes:
    """The parts' routes as node codes of the whole ``problem``.

    Parts keep the shipment and vehicle ids of the whole, so their routes
    map back by id (:func:`routing.portfolio.to_steps`, then
    :func:`~routing.portfolio.to_routes`).
    """
    steps = {v: s for res in results if res is not None for v, s in to_steps(res).items()}
    return to_routes(problem, steps)


def _solve_here(
    part: GeoRoutingProblem | RoutingProblem,
    params: SolveParams,
    seed: int,
    initials: Sequence[Steps | None] | None,
    i: int,
) -> RoutingResult | None:
    """Part ``i`` solved in this process (None if it fails here too)."""
    try:
        return solve_part(part, params, seed, initials[i] if initials else None)
    except Exception:
        log.exception("regional: part %d failed in-process too", i)
        return None
