"""Independent searches on the machine's cores, the best one kept.

Where a run ends on the public benchmarks is set early, by the basin its
search falls into: from one and the same fleet plan, 60 s runs on Li & Lim
400 ended anywhere from +0.1 % to +18.4 % above the best-known distance, and
the fleet phase reaches Solomon R104's 9 routes in some runs and not in
others (``routing/README.md``). Splitting one core's time into restarts did
not help (best of three third-length runs: 4 better, 3 worse, 1 tie), but a
second core gives a second full-length draw for free.

:func:`solve_searches` runs ``searches`` copies of the in-process portfolio
at once: this process with the caller's seed, forked children with seeds
``seed + 1``, ``seed + 2``, ... Every search has the same deadline and one
core (VROOM one thread); the best routes by the portfolio's lexicographic
objective are kept, ties going to the lowest seed, so a run with
``max_iterations`` set is still reproducible per seed. In iteration mode
(``SolveParams.iterations``) every search is waited for, and searches that
cannot have a process of their own run here, one after another, so the
plan never depends on the machine. Otherwise a child that fails
or does not answer by the deadline, or by when this process's own search
ended if that was later (plus :data:`GRACE_SECONDS`), is ignored:
the result is never worse than this process's own search. Every second
search has a patient fleet phase (:func:`child_params`).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from dataclasses import replace
from multiprocessing.connection import Connection

from routing.backends import Routes
from routing.params import SolveParams
from routing.portfolio import objective, solve_portfolio
from routing.problem import RoutingProblem
from routing.regional import START_METHOD  # fork: a child starts from this image

log = logging.getLogger(__name__)

# A child answers at the shared deadline; it is waited for this much longer
# (sending a few kB of routes through a pipe takes well under that).
GRACE_SECONDS = 0.2


def can_fork_searches() -> bool:
    """Whether this process may start search processes.

    Not from a daemonic process (a ``multiprocessing.Pool`` worker, say):
    Python forbids it children.
    """
    return (
        START_METHOD in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def solve_searches(
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    deadline: float,
    initial: Routes | None,
    searches: int,
) -> tuple[Routes, str, list[str | None]]:
    """Best of ``searches`` portfolio runs in parallel; same return as the portfolio."""
    one = search_params(problem, replace(params, searches=1))
    threads = max(1, params.workers // searches)
    ctx = multiprocessing.get_context(START_METHOD)
    children: list[tuple[multiprocessing.process.BaseProcess, Connection, int]] = []
    counted = params.iterations is not None
    serial: list[int] = []  # iteration mode, no process to spare: searched here, in turn
    for i in range(1, searches):
        if counted and not can_fork_searches():
            serial.append(i)
            continue
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(
            target=_search,
            args=(send, problem, child_params(one, i), seed + i, deadline, initial, threads),
            daemon=True,  # never outlives this process
        )
        try:
            child.start()
        except OSError as exc:  # no memory or process slots: one search is still a result
            log.warning("search with seed %d not started: %s", seed + i, exc)
            receive.close()
            send.close()
            if counted:
                serial.append(i)
            continue
        send.close()  # this end is the child's: EOF on receive if it dies
        children.append((child, receive, seed + i))
    try:
        routes, winner, reasons = solve_portfolio(
            problem, one, seed, deadline, initial, threads=threads
        )
        best_key = objective(problem, routes)
        log.debug("search seed %d (%s): key %s", seed, winner, best_key)
        # The children ran the same work to the same deadline: as late as this
        # process was, they may be too (PyVRP overran 10 s by 0.3 s on
        # X-n1001 in both, and the child's better plan was thrown away).
        until = max(deadline, time.monotonic()) + GRACE_SECONDS
        answers = [(seed + i, _serial(problem, one, i, seed, initial, threads)) for i in serial]
        for _child, receive, child_seed in children:
            # Iteration mode waits for every search: which one answers in time
            # must not decide the plan.
            answers.append((child_seed, _answer(receive, math.inf if counted else until)))
        # Ties go to the lowest seed (the search index): deterministic.
        for child_seed, answer in sorted(answers, key=lambda a: a[0]):
            if answer is None:
                log.warning("search with seed %d gave no result by the deadline", child_seed)
                continue
            their_routes, their_winner = answer
            key = objective(problem, their_routes)
            log.debug("search seed %d (%s): key %s", child_seed, their_winner, key)
            if key > best_key:
                routes, winner, best_key = their_routes, their_winner, key
    finally:
        for child, receive, _ in children:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()
    return routes, winner, reasons


def _serial(
    problem: RoutingProblem,
    params: SolveParams,
    index: int,
    seed: int,
    initial: Routes | None,
    threads: int,
) -> tuple[Routes, str] | None:
    """Search ``index`` run in this process (iteration mode, when no child could start)."""
    try:
        routes, winner, _ = solve_portfolio(
            problem, child_params(params, index), seed + index, math.inf, initial, threads
        )
    except Exception:
        log.exception("search with seed %d failed", seed + index)
        return None
    return routes, winner


def child_params(params: SolveParams, index: int) -> SolveParams:
    """The parameters of search ``index`` (1, 2, ...; 0 is this process's).

    Every odd search has a patient fleet phase (``SolveParams.patient_fleet``).
    Patience in every search lost distance on most instances, where it spent
    the fleet share on a hopeless target (eleventh session); with one patient
    search and one that keeps the stall rules, the best of the two takes the
    fewer vehicles where patience found them. Li & Lim 400 at 60 s, same
    machine: the best-known vehicle count on 36 instances of 60 against 31
    with two rule-keeping searches, never more vehicles (``routing/README.md``,
    twelfth session).
    """
    return replace(params, patient_fleet=True) if index % 2 else params


def search_params(problem: RoutingProblem, params: SolveParams) -> SolveParams:
    """The parameters every search runs with.

    On a distance-only problem (every shipment required, no vehicle cost:
    CVRP) the searches start cold, without VROOM's warm start: from VROOM's
    plan PyVRP tends to keep its route structure. On CVRPLIB X at 10 s
    (ninth session), two warm searches were behind PyVRP alone on 4 of 5
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


def _answer(receive: Connection, until: float) -> tuple[Routes, str] | None:
    """The child's (routes, winner), or None if it died, failed or is late."""
    try:
        wait = None if math.isinf(until) else max(0.0, until - time.monotonic())
        if not receive.poll(wait):  # None: until it answers or dies (EOF)
            return None
        answer = receive.recv()
    except (EOFError, OSError):
        return None
    return answer if isinstance(answer, tuple) else None


def _search(
    send: Connection,
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    deadline: float,
    initial: Routes | None,
    threads: int,
) -> None:
    """A child's search: one portfolio run, its (routes, winner) sent back."""
    try:
        routes, winner, _ = solve_portfolio(problem, params, seed, deadline, initial, threads)
        send.send((routes, winner))
    except Exception:  # the parent keeps its own search's result
        log.exception("search with seed %d failed", seed)
        send.send(None)
    finally:
        send.close()
