"""Portfolio of backends sharing one time budget; the best plan wins.

Order and shares (``SolveParams.backends``/``shares``) were chosen by
measurement on Li & Lim, Solomon and CVRPLIB X (see ``routing/README.md``):
VROOM is a fast constructor (well under a second) whose routes warm-start
the others; PyVRP's iterated local search gives the best plans at equal time
and gets all the rest of the budget; OR-Tools guided local search is the
fallback (share 0: it runs only when every backend before it failed), since
as a polish after PyVRP it rarely paid at benchmark budgets.

After every backend the routes are re-checked in float arithmetic by
:mod:`routing.evaluate`; an invalid route loses its offending shipments one
at a time until valid, and every shipment not served is offered again to a
greedy insertion (exact evaluator). Candidates are compared by the
lexicographic objective: required shipments served, then delivered value,
then distance + fixed vehicle costs.

With ``SolveParams.iterations`` set, the shares split that many iterations
instead of the seconds, every backend runs (none is skipped for time), and
no decision reads the clock (``routing/README.md``, "Reproducible solves").
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from routing.backends import BackendCall, Routes
from routing.evaluate import check_route
from routing.feasibility import alone_feasibility
from routing.insertion import insert_greedy, insertion_order
from routing.params import SolveParams
from routing.problem import RoutingProblem
from routing.record import routes_from_json as record_routes_back
from routing.record import routes_to_json as record_routes
from routing.result import VALUE_DIGITS, RoutingResult
from routing.scaling import IntegerModel, integer_model

log = logging.getLogger(__name__)

Backend = Callable[[RoutingProblem, IntegerModel, BackendCall], Routes]

# A warm start by ids (public form of ``routing.solve(..., initial=...)``):
# vehicle id -> ordered steps ``(shipment id, "pickup" | "delivery")``. At a
# stop, deliveries come before pickups (the evaluator's order); a depot-loaded
# shipment has only its delivery step.
Steps = Mapping[str, Sequence[tuple[str, str]]]


def to_routes(problem, initial: Steps) -> Routes:
    """``initial`` (ids) as node codes of ``problem``; unknown ids are skipped.

    ``problem`` is anything with ``vehicles`` and ``shipments`` (a
    :class:`RoutingProblem` or a ``GeoRoutingProblem``). A shipment whose
    steps are incomplete or repeated is left out; validity is not checked
    here (the portfolio's float repair does that).
    """
    vid = {v.id: i for i, v in enumerate(problem.vehicles)}
    sid = {s.id: k for k, s in enumerate(problem.shipments)}
    routes: Routes = {}
    used: set[int] = set()
    for vehicle, steps in initial.items():
        v = vid.get(vehicle)
        if v is None or v in routes:
            continue
        codes = [2 * sid[s] + (kind == "delivery") for s, kind in steps if s in sid]
        count: dict[int, int] = {}
        for c in codes:
            count[c] = count.get(c, 0) + 1
        keep = set()
        for k in {c >> 1 for c in codes}:
            depot = problem.shipments[k].pickup is None
            ok = count.get(2 * k + 1) == 1 and count.get(2 * k, 0) == (0 if depot else 1)
            if ok and k not in used:
                keep.add(k)
        nodes = [c for c in codes if c >> 1 in keep]
        used |= keep
        if nodes:
            routes[v] = nodes
    return routes


def to_steps(result: RoutingResult) -> dict[str, list[tuple[str, str]]]:
    """A result's routes as a warm start for ``routing.solve(..., initial=...)``."""
    out: dict[str, list[tuple[str, str]]] = {}
    for route in result.routes:
        steps: list[tuple[str, str]] = []
        for stop in route.stops:
            steps += [(s, "delivery") for s in stop.deliveries]
            steps += [(s, "pickup") for s in stop.pickups]
        if steps:
            out[route.vehicle] = steps
    return out


def _backend(name: str) -> Backend:
    # Imported lazily so a missing optional library only disables its backend.
    if name == "pyvrp":
        from routing.backends.pyvrp_backend import solve_pyvrp

        return solve_pyvrp
    if name == "ortools":
        from routing.backends.ortools_backend import solve_ortools

        return solve_ortools
    if name == "vroom":
        from routing.backends.vroom_backend import solve_vroom

        return solve_vroom
    raise ValueError(f"unknown backend {name!r}")


def objective(problem: RoutingProblem, routes: Routes) -> tuple[int, float, float]:
    """Lexicographic key (larger is better) of valid ``routes``."""
    served = [c >> 1 for nodes in routes.values() for c in nodes if c & 1]
    ships = problem.shipments
    required_missing = sum(s.required for s in ships) - sum(ships[k].required for k in served)
    value = round(sum(ships[k].value for k in served), VALUE_DIGITS)
    cost = 0.0
    for v, nodes in routes.items():
        if nodes:
            chk = check_route(problem, v, nodes)
            cost += chk.distance + problem.vehicles[v].fixed_cost
    return (-required_missing, value, -cost)


def repair(
    problem: RoutingProblem,
    routes: Routes,
    feasible: np.ndarray,
    active: list[int],
    deadline: float,
    max_checks: int | None = None,
    tally: list[int] | None = None,
) -> Routes:
    """Make every route valid, then greedily insert unserved active shipments.

    The insertion stops at ``deadline`` or after ``max_checks`` evaluator
    calls (:func:`routing.insertion.insert_greedy`); ``tally`` gets the
    calls made appended (none when nothing was left to insert).
    """
    fixed: Routes = {}
    for v, nodes in routes.items():
        nodes = list(nodes)
        while nodes:
            chk = check_route(problem, v, nodes)
            if chk.feasible:
                break
            k = chk.culprit
            log.debug("repair: dropping %s from %s: %s", k, problem.vehicles[v].id, chk.error)
            nodes = [c for c in nodes if c >> 1 != k]
        if nodes:
            fixed[v] = nodes
    served = {c >> 1 for nodes in fixed.values() for c in nodes}
    todo = insertion_order(problem, [k for k in active if k not in served])
    if todo:
        insert_greedy(problem, fixed, todo, feasible, deadline, max_checks, tally)
    return fixed


# Wall time a backend spends outside the time limit it is given, measured on
# a 2-core machine (Jessr 2,000-request day, 60 volunteers, 3 speed classes):
# VROOM's construction heuristics ignore its timeout (exploration level 5:
# 0.4 s at 300 shipments, 1.2 s at 600, 3.5 s at 1,145, i.e. ~n^1.7);
# OR-Tools spends ~n^2 building its transit matrices (Python lists) and
# loading the warm start (1.1-2.6 s + 1.1 s at 2,350 nodes); PyVRP builds
# its matrices (~0.4 s at 1,350 locations). Coefficients are rounded up.
VROOM_SECONDS_PER_N17 = 2.5e-5  # x active^1.7
ORTOOLS_SECONDS_PER_ENTRY = 1.5e-7  # x nodes^2 x (speed classes + 1)
PYVRP_SECONDS_PER_ENTRY = 4e-8  # x locations^2 x speed classes
VROOM_MAX_SHARE = 0.3  # of the time left: above that VROOM is skipped
REPAIR_RESERVE = 0.3  # seconds of a backend's share kept for the float repair, at most
MIN_SEARCH = 0.3  # seconds of search below which a backend is not worth its set-up
COLD_ORTOOLS_MAX_ACTIVE = 400  # cold OR-Tools' first solution ignores its limit above
# Iteration mode: the greedy insertion after each backend stops after this many
# evaluator checks instead of at REPAIR_RESERVE seconds (about 1.5 s on a
# 1,145-shipment day, 2026-12-07, AMD EPYC; unbounded it took 190 s there).
REPAIR_CHECKS = 2_000


def overhead(name: str, problem: RoutingProblem, active: list[int]) -> float:
    """Predicted seconds ``name`` needs beyond its time limit on this problem."""
    n = len(active)
    classes = len({v.speed for v in problem.vehicles}) or 1
    homes = len({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    if name == "vroom":
        return VROOM_SECONDS_PER_N17 * n**1.7
    if name == "ortools":
        return ORTOOLS_SECONDS_PER_ENTRY * (2 * n + homes) ** 2 * (classes + 1)
    return PYVRP_SECONDS_PER_ENTRY * (min(2 * n, problem.num_locations) + homes) ** 2 * classes


def _plan_backends(
    problem: RoutingProblem, params: SolveParams, active: list[int], left: float, threads: int = 1
) -> list[tuple[str, float, float]]:
    """Backends worth running in ``left`` seconds: (name, share, overhead).

    A backend whose set-up alone would eat its share is skipped and its share
    goes to the others, so the portfolio keeps to its deadline (backends run
    in-process and cannot be interrupted).
    """
    total = sum(params.shares)
    plan: list[tuple[str, float, float]] = []
    for name, share in zip(params.backends, params.shares, strict=True):
        over = overhead(name, problem, active)
        nominal = left * share / total
        if name == "ortools" and not plan and len(active) > COLD_ORTOOLS_MAX_ACTIVE:
            ok = False  # no warm start: its first-solution heuristic is unbounded
        elif share == 0 or params.iterations is not None:
            # Iteration mode runs every backend: skipping one by its predicted
            # set-up time would make the result depend on the clock's budget.
            ok = True  # a fallback: runs only if the others fail (see solve_portfolio)
        elif name == "vroom" and params.vroom_exploration is None:
            # Its level is chosen to fit its share, construction included
            # (vroom_backend.exploration_level): skipped only when even the
            # lightest level cannot. The level-5 construction estimate
            # skipped it on a 1,200-shipment day at 10 s, and PyVRP alone
            # delivered 16 % less than VROOM alone.
            from routing.backends.vroom_backend import OVERRUN, search_seconds

            over = 0.0
            ok = search_seconds(1, len(active), threads) <= OVERRUN * nominal
        elif name == "vroom":
            ok = over <= VROOM_MAX_SHARE * left
        else:
            ok = over + MIN_SEARCH <= nominal
        if ok:
            plan.append((name, share, over))
        else:
            log.debug("skipping %s: predicted set-up %.2f s of %.2f s left", name, over, left)
    return plan


def solve_portfolio(
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    deadline: float,
    initial: Routes | None = None,
    threads: int = 1,
    record: dict | None = None,
) -> tuple[Routes, str, list[str | None]]:
    """Run the backends in turn; return the best routes, winner, alone-reasons.

    ``initial`` (node codes) is a candidate like any backend's: repaired in
    float (invalid shipments dropped, nothing inserted), kept if best, and
    the warm start of the first backend that takes one. The result is never
    worse than it by the lexicographic objective. ``threads``: how many
    threads a backend may use (VROOM searches in parallel with them).
    With ``params.iterations`` set, ``deadline`` and ``threads`` are ignored:
    the backends split the iterations (:func:`_counted_call`) and nothing
    reads the clock, so the result is a function of the arguments alone.
    In time mode, ``record`` (a dict) is filled with what each backend did
    (:mod:`routing.record`); with ``params.replay`` set (such a record),
    that work is re-done instead, without the clock (:func:`_replay`).
    """
    feasible, reasons = alone_feasibility(problem)
    active = [k for k, r in enumerate(reasons) if r is None]
    if not active:
        return {}, "none", reasons
    if params.replay is not None:
        return (*_replay(problem, params, seed, initial, feasible, active), reasons)
    runs: list[dict] = []
    if record is not None and params.iterations is None:
        record["runs"] = runs
    else:
        record = None
    if params.iterations is not None:
        # Iteration mode: no deadline, and VROOM on one thread, so the plan
        # cannot depend on how its parallel searches are scheduled.
        deadline, threads = math.inf, 1
    im = integer_model(problem)
    best: Routes | None = None
    best_key: tuple[int, float, float] | None = None
    winner = "none"
    if initial:
        best = repair(problem, initial, feasible, [], deadline)
        best_key, winner = objective(problem, best), "initial"
    plan = _plan_backends(problem, params, active, deadline - time.monotonic(), threads)
    if record is not None:
        planned = {name for name, _, _ in plan}
        record["not_planned"] = [b for b in params.backends if b not in planned]
    shares = [share for _, share, _ in plan]
    for i, (name, _, over) in enumerate(plan):
        if shares[i] == 0 and best is not None:
            runs.append({"backend": name, "skipped": "fallback"})
            continue  # a fallback: only when every backend before it failed
        if params.iterations is not None:
            call = _counted_call(problem, params, plan, i, active, seed, best)
            raw = _run_backend(name, problem, im, call)
            if raw is not None:
                routes = repair(problem, raw, feasible, active, math.inf, REPAIR_CHECKS)
                key = objective(problem, routes)
                log.debug("backend %s: key %s", name, key)
                if best_key is None or key > best_key:
                    best, best_key, winner = routes, key, name
            continue
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            runs += [{"backend": n, "skipped": "time"} for n, _, _ in plan[i:]]
            break
        rest = sum(shares[i:])
        budget = left * shares[i] / rest if shares[i] > 0 else left
        if name == "vroom":
            # Its construction takes what it takes; give it at least that.
            budget = min(max(budget, over * 1.2), left)
            if params.max_iterations is not None:
                # Reproducible runs: VROOM ends its search by itself; a
                # timeout would make its result depend on machine load.
                budget = left
        elif over + MIN_SEARCH > budget:
            runs.append({"backend": name, "skipped": "time"})
            continue  # earlier backends ran long: no room left for this one
        # Keep a sliver of each share for the float repair and reinsertion
        # (10 %, at most REPAIR_RESERVE seconds: repairing valid routes is fast).
        search = budget - over  # over is 0 for a VROOM whose level fits its share
        call = BackendCall(
            active=tuple(active),
            time_limit=max(0.01, search - min(0.1 * search, REPAIR_RESERVE)),
            seed=seed,
            max_iterations=params.max_iterations,
            initial=best,
            threads=threads,
            vroom_exploration=params.vroom_exploration,
            patient_fleet=params.patient_fleet,
            report={} if record is not None else None,
        )
        raw = _run_backend(name, problem, im, call)
        run = _run_record(name, call, raw)
        runs.append(run)
        if raw is None:
            continue
        end = now + budget
        if any(share > 0 for share in shares[i + 1 :]):
            # A later backend searches from these routes: leave it the time
            # this one did not use rather than spend it on greedy insertion
            # (after VROOM's own search on a 1,300-shipment day, insertion
            # ran 8 s to its deadline and added nothing).
            end = min(end, time.monotonic() + REPAIR_RESERVE)
        tally: list[int] = []
        routes = repair(
            problem, raw, feasible, active, max(end, time.monotonic() + 0.05), None, tally
        )
        run["checks"] = sum(tally)
        key = objective(problem, routes)
        log.debug("backend %s: key %s", name, key)
        if best_key is None or key > best_key:
            best, best_key, winner = routes, key, name
    if best is None:
        # No backend finished: a greedy plan beats none.
        checks = None if params.iterations is None else REPAIR_CHECKS
        tally = []
        best = repair(problem, {}, feasible, active, deadline, checks, tally)
        winner = "insertion"
        if record is not None:
            record["insertion_checks"] = sum(tally)
    return best, winner, reasons


def _run_record(name: str, call: BackendCall, raw: Routes | None) -> dict:
    """What a backend run did, as :func:`_replay` repeats it (:mod:`routing.record`)."""
    report = call.report or {}
    run: dict = {"backend": name, **{k: report[k] for k in ("level", "threads") if k in report}}
    if raw is None:
        run["failed"] = True
    elif name == "pyvrp" and "iterations" in report and not report.get("phased"):
        run["iterations"] = int(report["iterations"])
    else:
        # VROOM's search under a timeout counts nothing a replay could bound
        # it by (its level is chosen to overrun, and its timeout cuts each of
        # its searches), so its routes are the record.
        run["routes"] = record_routes(raw)
    return run


def _replay(
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    initial: Routes | None,
    feasible: np.ndarray,
    active: list[int],
) -> tuple[Routes, str]:
    """The portfolio run recorded in ``params.replay``, re-done with no clock.

    The same candidates in the same order: the warm start, then each
    backend that ran (PyVRP searching again for its recorded iterations
    from the same warm start; a backend recorded by its routes giving them
    back), each repaired with its recorded number of checks.
    """
    assert params.replay is not None
    rec = params.replay
    nv, ns = len(problem.vehicles), len(problem.shipments)
    im = integer_model(problem)
    best: Routes | None = None
    best_key: tuple[int, float, float] | None = None
    winner = "none"
    if initial:
        best = repair(problem, initial, feasible, [], math.inf)
        best_key, winner = objective(problem, best), "initial"
    for run in rec.get("runs", ()):
        name = run["backend"]
        if "skipped" in run or run.get("failed"):
            continue
        if "iterations" in run:
            call = BackendCall(
                active=tuple(active),
                time_limit=math.inf,  # no clock: the recorded iterations bound the search
                seed=seed,
                max_iterations=int(run["iterations"]),
                initial=best,
                threads=1,
                vroom_exploration=params.vroom_exploration,
                patient_fleet=params.patient_fleet,
            )
            raw = _run_backend(name, problem, im, call)
            if raw is None:
                raise RuntimeError(f"replay: backend {name} failed where the recorded run did not")
        else:
            raw = record_routes_back(run["routes"], nv, ns)
        routes = repair(problem, raw, feasible, active, math.inf, int(run["checks"]))
        key = objective(problem, routes)
        if best_key is None or key > best_key:
            best, best_key, winner = routes, key, name
    if best is None:
        checks = int(rec.get("insertion_checks", 0))
        best = repair(problem, {}, feasible, active, math.inf, checks)
        winner = "insertion"
    return best, winner


def _run_backend(
    name: str, problem: RoutingProblem, im: IntegerModel, call: BackendCall
) -> Routes | None:
    """The backend's routes, or ``None`` when it failed (logged)."""
    try:
        return _backend(name)(problem, im, call)
    except Exception:  # a failing backend must not sink the portfolio
        log.exception("routing backend %s failed", name)
        return None


def _counted_call(
    problem: RoutingProblem,
    params: SolveParams,
    plan: list[tuple[str, float, float]],
    i: int,
    active: list[int],
    seed: int,
    initial: Routes | None,
) -> BackendCall:
    """Backend ``i``'s call in iteration mode: its share of the iterations, no clock.

    Shares split ``params.iterations`` as they split seconds in time mode
    (at least one each); a fallback (share 0) gets them all. VROOM, which
    counts no iterations, runs on one thread with no timeout at
    ``params.vroom_exploration`` or the level its share buys
    (:func:`routing.backends.vroom_backend.iteration_level`).
    """
    assert params.iterations is not None
    name, share, _ = plan[i]
    total = sum(s for _, s, _ in plan)
    count = max(1, round(params.iterations * share / total)) if share > 0 else params.iterations
    level = params.vroom_exploration
    if name == "vroom" and level is None:
        from routing.backends.vroom_backend import iteration_level

        level = iteration_level(len(active), count)
    return BackendCall(
        active=tuple(active),
        time_limit=math.inf,  # backends read it as "no clock": bounded by max_iterations
        seed=seed,
        max_iterations=count,
        initial=initial,
        threads=1,
        vroom_exploration=level,
        patient_fleet=params.patient_fleet,
    )
