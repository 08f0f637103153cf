"""Independent searches on the machine's cores, the best one kept.

Where a run ends on the public benchmarks is set early, by the basin its
search falls into: from one and the same fleet plan, 60 s runs on Li & Lim
400 ended anywhere from +0.1 % to +18.4 % above the best-known distance, and
the fleet phase reaches Solomon R104's 9 routes in some runs and not in
others (``docs/experiments.md``). Splitting one core's time into restarts did
not help (best of three third-length runs: 4 better, 3 worse, 1 tie), but a
second core gives a second full-length draw for free.

:func:`solve_searches` runs ``searches`` copies of the in-process portfolio
at once: this process with the caller's seed, the others on the caller's
executor (:mod:`engine.executors` makes one; the searches never start
processes themselves) with seeds ``seed + 1``, ``seed + 2``, ... Every search
has the same deadline and one core (VROOM one thread); the best routes by the
portfolio's lexicographic objective are kept, ties going to the lowest seed,
so a run with ``max_iterations`` set is still reproducible per seed. In
iteration mode (``SolveParams.iterations``) every search is waited for, and a
search that cannot be submitted runs here, so the plan never depends on the
machine or on which search answers first. Otherwise a search
that fails or does not answer by the deadline, or by when this process's own
search ended if that was later (plus :data:`GRACE_SECONDS`), is ignored: the
result is never worse than this process's own search. A late search is not
killed (an executor cannot stop a running task): its worker is busy until
the portfolio's own deadline ends it. Every second search has a patient
fleet phase (:func:`child_params`).

Without an executor only this process's search runs (:mod:`routing.piece`):
running the others one after another would split one core's time into
restarts, which did not help (above); the plan is then search 0's, as
reproducible per seed as before. (:func:`solve_searches` can run them one
after another all the same, for runs bounded by work rather than time.)

Data: each search gets the problem pickled (its matrix and records) and
sends back only its node-code routes. Measured 2026-12-07 on the 2-core AMD
EPYC, loaded: a 1,001-location problem (the largest benchmark instances) is
8.1 MB, 23 ms to pickle and 63 ms to reach a worker; a 4,001-location one is
129 MB and 2.9 s, which would want shared memory before searches are run on
problems that large in one piece.
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import Executor, Future
from dataclasses import replace

from routing.backends import Routes
from routing.params import SolveParams
from routing.portfolio import objective, solve_portfolio
from routing.problem import RoutingProblem

log = logging.getLogger(__name__)

# A search answers at the shared deadline; it is waited for this much longer
# (sending a few kB of routes back takes well under that).
GRACE_SECONDS = 0.2


def solve_searches(
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    deadline: float,
    initial: Routes | None,
    searches: int,
    executor: Executor | None,
    record: dict | None = None,
) -> tuple[Routes, str, list[str | None]]:
    """Best of ``searches`` portfolio runs; same return as the portfolio.

    Search 0 runs in this process, the others on ``executor`` at the same
    time. With ``executor=None`` the others run here after search 0, one
    after another, to the same deadline: only for runs bounded by work
    rather than time, whose result is then the one a pool gives
    (:mod:`routing.piece` runs search 0 alone in-process otherwise).

    ``record`` (time mode) gets ``"searches"``: each search's seed, whether
    it answered in time and its portfolio record. With ``params.replay`` set
    (a piece record with searches), the searches that answered are re-done,
    all waited for, and the others left out, as in the recorded run.
    """
    one = search_params(problem, replace(params, searches=1, replay=None))
    threads = max(1, params.workers // searches)
    replay = params.replay["searches"] if params.replay is not None else None
    counted = params.iterations is not None or replay is not None
    rows: list[dict] = []
    if record is not None:
        record["searches"] = rows
    indices: list[int] = list(range(1, searches))
    if replay is not None:
        # Search i has seed + i: the recorded rows are keyed by their seed.
        rows_by = {int(row["seed"]) - seed: row for row in replay}
        one = replace(one, replay=rows_by[0]["portfolio"])
        indices = sorted(i for i, row in rows_by.items() if i > 0 and row["answered"])
    others: list[tuple[int, tuple, Future[tuple[Routes, str, dict]] | None]] = []
    for i in indices:
        child = child_params(one, i)
        if replay is not None:
            child = replace(child, replay=rows_by[i]["portfolio"])
        args = (problem, child, seed + i, deadline, initial, threads, record is not None)
        if executor is None:
            others.append((seed + i, args, None))
            continue
        try:
            others.append((seed + i, args, executor.submit(_search, *args)))
        except Exception as exc:  # a broken or shut-down pool: one search is still a result
            log.warning("search with seed %d not started: %s", seed + i, exc)
            if not counted:
                break
            # Iteration mode: the plan must not depend on the pool's health.
            others.append((seed + i, args, None))
    try:
        mine: dict | None = {} if record is not None else None
        # Only a recording run passes a record (stand-ins of the portfolio take none).
        extra = {"record": mine} if mine is not None else {}
        routes, winner, reasons = solve_portfolio(
            problem, one, seed, deadline, initial, threads=threads, **extra
        )
        rows.append({"seed": seed, "answered": True, "portfolio": mine})
        best_key = objective(problem, routes)
        log.debug("search seed %d (%s): key %s", seed, winner, best_key)
        # The others ran the same work to the same deadline: as late as this
        # process was, they may be too (PyVRP overran 10 s by 0.3 s on
        # X-n1001 in both, and the other search's better plan was thrown away).
        until = max(deadline, time.monotonic()) + GRACE_SECONDS
        # Iteration mode waits for every search: which one answers in time
        # must not decide the plan.
        if counted:
            until = math.inf
        for other_seed, args, future in others:
            answer = _answer(future, other_seed, until) if future else _in_process(args)
            if answer is None and counted and future:
                answer = _in_process(args)  # a worker that died: the same search, here
            if answer is None and replay is not None:
                raise RuntimeError(f"replay: the search with seed {other_seed} failed")
            rows.append(
                {
                    "seed": other_seed,
                    "answered": answer is not None,
                    "portfolio": answer and answer[2],
                }
            )
            if answer is None:
                continue
            their_routes, their_winner, _ = answer
            key = objective(problem, their_routes)
            log.debug("search seed %d (%s): key %s", other_seed, their_winner, key)
            if key > best_key:
                routes, winner, best_key = their_routes, their_winner, key
    finally:
        for _, _, future in others:
            if future:
                future.cancel()  # one still queued (a busy executor) never starts
    return routes, winner, reasons


def child_params(params: SolveParams, index: int) -> SolveParams:
    """The parameters of search ``index`` (1, 2, ...; 0 is this process's).

    Every odd search has a patient fleet phase (``SolveParams.patient_fleet``).
    Patience in every search lost distance on most instances, where it spent
    the fleet share on a hopeless target (2026-12-03); with one patient
    search and one that keeps the stall rules, the best of the two takes the
    fewer vehicles where patience found them. Li & Lim 400 at 60 s, same
    machine: the best-known vehicle count on 36 instances of 60 against 31
    with two rule-keeping searches, never more vehicles (``routing/README.md``,
    2026-12-03).
    """
    return replace(params, patient_fleet=True) if index % 2 else params


def search_params(problem: RoutingProblem, params: SolveParams) -> SolveParams:
    """The parameters every search runs with.

    On a distance-only problem (every shipment required, no vehicle cost:
    CVRP) the searches start cold, without VROOM's warm start: from VROOM's
    plan PyVRP tends to keep its route structure. On CVRPLIB X at 10 s
    (2026-12-02), two warm searches were behind PyVRP alone on 4 of 5
    instances, a warm and a cold one on 3, two cold ones on none (4 better,
    1 tie: the caller's seed then replays PyVRP's own run, and the second
    seed is a second draw). Elsewhere the fleet phase or the prizes make
    the warm start worth more (Solomon: ``routing/README.md``).
    """
    if "vroom" not in params.backends or not _distance_only(problem):
        return params
    rest = tuple(b for b in params.backends if b != "vroom")
    if not rest:
        return params
    shares = tuple(s for b, s in zip(params.backends, params.shares, strict=True) if b != "vroom")
    if not any(s > 0 for s in shares):
        shares = ()  # SolveParams re-derives them
    return replace(params, backends=rest, shares=shares)


def _distance_only(problem: RoutingProblem) -> bool:
    return all(s.required for s in problem.shipments) and all(
        v.fixed_cost == 0 for v in problem.vehicles
    )


def _answer(
    future: Future[tuple[Routes, str, dict]], seed: int, until: float
) -> tuple[Routes, str, dict] | None:
    """The search's (routes, winner), or None if it failed, died or is late."""
    try:
        wait = None if math.isinf(until) else max(0.0, until - time.monotonic())
        return future.result(timeout=wait)
    except TimeoutError:
        log.warning("search with seed %d gave no result by the deadline", seed)
    except Exception:  # the worker raised or died (a broken pool): ours stands
        log.warning("search with seed %d failed", seed, exc_info=True)
    return None


def _in_process(args: tuple) -> tuple[Routes, str, dict] | None:
    """Another search run here; None if it failed (this process's search stands)."""
    try:
        return _search(*args)
    except Exception:
        log.warning("search with seed %d failed", args[2], exc_info=True)
        return None


def _search(
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    deadline: float,
    initial: Routes | None,
    threads: int,
    recording: bool = False,
) -> tuple[Routes, str, dict]:
    """Another search (run on the executor): one portfolio run, its (routes, winner, record)."""
    record: dict = {}
    extra = {"record": record} if recording else {}
    routes, winner, _ = solve_portfolio(problem, params, seed, deadline, initial, threads, **extra)
    return routes, winner, record
