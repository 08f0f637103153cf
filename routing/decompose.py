"""Geographic decomposition for days too large for one model.

A national day (tens of thousands of shipments, ~2,000 vehicles) is split
into parts of about ``params.part_size`` shipments:

1. seeds: farthest-first over vehicle homes (every part needs vehicles),
   refined by two Lloyd/k-medoids rounds on the distance matrix itself, so
   no coordinates are needed and road-factor/asymmetric matrices work;
2. each shipment joins the seed minimising d(seed, pickup) + d(seed,
   delivery); each vehicle the seed nearest its home; a part without
   vehicles hands its shipments to the nearest part that has some;
3. parts are plain picklable :class:`RoutingProblem` values solved by the
   portfolio on the caller's executor, else in this process (they could be
   Celery tasks as they are), by :func:`routing.parallel.run_parts`, which
   hands each part the time left over the waves left, within 85 % of the
   budget;
4. repair: shipments a part could not serve are offered by greedy
   insertion (exact evaluator) to every vehicle of the whole day, so leftover
   capacity of neighbouring parts and unused vehicles is used.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from routing.backends import Routes
from routing.feasibility import alone_feasibility
from routing.insertion import insert_greedy, insertion_order
from routing.parallel import part_routes, run_parts
from routing.params import SolveParams
from routing.portfolio import REPAIR_CHECKS
from routing.problem import RoutingProblem
from routing.record import expect

PART_SHARE = 0.85  # of the budget for the parts; the rest for cross-part repair
LLOYD_ROUNDS = 2
MEDOID_SAMPLE = 200  # candidate medoids per part per round


def partition(problem: RoutingProblem, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """Assign shipments and vehicles to ``parts`` regions.

    Returns (part of each shipment, part of each vehicle); every part that
    holds shipments also holds at least one vehicle.
    """
    d = problem.distance
    homes = np.array([v.start for v in problem.vehicles])
    p = np.array([s.first_location for s in problem.shipments])
    q = np.array([s.delivery for s in problem.shipments])
    uniq = np.unique(homes)
    parts = max(1, min(parts, len(uniq)))
    seeds = [int(uniq[0])]
    nearest = d[seeds[0], uniq].copy()
    while len(seeds) < parts:
        nxt = int(uniq[int(np.argmax(nearest))])
        seeds.append(nxt)
        nearest = np.minimum(nearest, d[nxt, uniq])
    seed_arr = np.array(seeds)
    for _ in range(LLOYD_ROUNDS):
        ship_part = np.argmin(d[seed_arr][:, p] + d[seed_arr][:, q], axis=0)
        for c in range(len(seed_arr)):
            members = np.flatnonzero(ship_part == c)
            if members.size == 0:
                continue
            cand = np.unique(np.concatenate([p[members], q[members]]))
            if cand.size > MEDOID_SAMPLE:
                cand = cand[np.linspace(0, cand.size - 1, MEDOID_SAMPLE).astype(int)]
            cost = d[cand][:, p[members]].sum(1) + d[cand][:, q[members]].sum(1)
            seed_arr[c] = cand[int(np.argmin(cost))]
    veh_part = np.argmin(d[seed_arr][:, homes], axis=0)
    has_veh = np.zeros(len(seed_arr), dtype=bool)
    has_veh[veh_part] = True
    score = d[seed_arr][:, p] + d[seed_arr][:, q]
    score[~has_veh] = np.inf
    ship_part = np.argmin(score, axis=0)
    return ship_part, veh_part


def subproblem(
    problem: RoutingProblem, ships: np.ndarray, vehs: np.ndarray
) -> tuple[RoutingProblem, np.ndarray, np.ndarray]:
    """The part with these shipments and vehicles, on a compacted matrix.

    Returns (part problem, its shipments' global indices, its vehicles').
    """
    locs = sorted(
        {problem.vehicles[v].start for v in vehs}
        | {problem.vehicles[v].end for v in vehs}
        | {problem.shipments[k].first_location for k in ships}
        | {problem.shipments[k].delivery for k in ships}
    )
    new = {loc: i for i, loc in enumerate(locs)}
    vehicles = tuple(
        replace(
            problem.vehicles[v],
            start=new[problem.vehicles[v].start],
            end=new[problem.vehicles[v].end],
        )
        for v in vehs
    )
    shipments = tuple(
        replace(
            problem.shipments[k],
            pickup=None
            if problem.shipments[k].pickup is None
            else new[problem.shipments[k].pickup],
            delivery=new[problem.shipments[k].delivery],
        )
        for k in ships
    )
    sub = problem.distance[np.ix_(locs, locs)]
    return RoutingProblem(sub, vehicles, shipments, problem.stop_time), ships, vehs


def solve_decomposed(
    problem: RoutingProblem,
    params: SolveParams,
    seed: int,
    deadline: float,
    executor: Executor | None = None,
    record: dict | None = None,
) -> tuple[Routes, str, list[str | None]]:
    """Solve by parts (on ``executor``, else in-process), then repair across parts.

    ``record`` (time mode) gets the parts' records and the repair's checks;
    ``params.replay`` (such a record) re-does them (:mod:`routing.record`).
    """
    replay = params.replay
    if replay is not None:
        expect(replay, "decomposed")
        params = replace(params, replay=None)
    m = len(problem.shipments)
    started = time.monotonic()
    ship_part, veh_part = partition(problem, math.ceil(m / params.part_size))
    jobs = []
    for c in np.unique(ship_part):
        ships = np.flatnonzero(ship_part == c)
        vehs = np.flatnonzero(veh_part == c)
        jobs.append(subproblem(problem, ships, vehs))
    parts_end = started + (deadline - started) * PART_SHARE
    rows: list[dict] | None = [] if record is not None else None
    results = run_parts(
        executor,
        [part for part, _, _ in jobs],
        params,
        seed,
        parts_end,
        record=rows,
        replay=replay["parts"] if replay is not None else None,
    )
    routes = part_routes(problem, results)
    feasible, reasons = alone_feasibility(problem)
    served = {c >> 1 for nodes in routes.values() for c in nodes}
    left = [k for k, r in enumerate(reasons) if r is None and k not in served]
    checks = None if params.iterations is None else REPAIR_CHECKS  # iteration mode: no clock
    if replay is not None:
        checks = int(replay["checks"])
    tally: list[int] = []
    order = insertion_order(problem, left)
    insert_greedy(problem, routes, order, feasible, deadline, checks, tally)
    if record is not None:
        record.update(parts=rows, checks=sum(tally))
    return routes, f"decomposed({len(jobs)} parts)", reasons
