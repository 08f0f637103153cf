"""VROOM backend (pyvroom): a fast constructor with its own local search.

Why VROOM: it builds good shipment routes in a fraction of a second, which
makes it the portfolio's cheap first step and a warm start for PyVRP and
OR-Tools. It maximises the sum of job priorities (0-100) before cost, so
values are mapped to priorities (required → 100, others 1-99 in proportion to
value); this is coarser than the other backends' prizes, which is fine for a
constructor whose routes are re-ranked by the exact objective.

VROOM's matrices are 32-bit, which :mod:`routing.scaling` guarantees. Stop
time rides on edges leaving client locations, like in the other backends.
Depot-loaded deliveries are VROOM jobs with ``delivery`` (loaded at the
vehicle's start), real pairs are VROOM shipments; a job's id is its delivery
node code, a shipment step's id its node code.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import numpy as np
import vroom

from routing.backends import BackendCall, Routes
from routing.backends.common import leave_stop_matrix, local_locations
from routing.canonical import canonical_routes
from routing.problem import RoutingProblem
from routing.scaling import IntegerModel

log = logging.getLogger(__name__)

MAX_EXPLORATION = 5  # VROOM's most thorough level (its command line's default)
# Seconds one thread needs for VROOM's whole search at exploration levels
# 1..5, per (active shipments / 1000) ** SEARCH_EXPONENT, fitted on Jessr
# days of 480-1,200 active shipments (AMD EPYC, 2 threads). VROOM splits
# its timeout evenly between its searches (more of them, and deeper, at
# higher levels), so a level whose searches cannot finish cuts every one
# short: on those days at 17 s, level 5 delivered 3-7 % less than level 2
# (routing/README.md, measured 2026-12-02). Benchmark instances (tight windows,
# every shipment required) run 5-10 times slower per shipment, so the
# benchmark families keep a fixed level (SolveParams.vroom_exploration).
FULL_SEARCH_SECONDS = (7.6, 24.0, 47.0, 85.0, 129.0)
SEARCH_EXPONENT = 2.5
# A level may be predicted to overrun its time by this factor: the end of a
# search gains little, cutting most of it loses much. At 17 s a level
# predicted at 1.4 times the time did 3 % better than the lower one, which
# finished at 60 % of it; at 2.5 times, about as well; at 4 times, 2-5 %
# worse (measured 2026-12-02, AMD EPYC).
OVERRUN = 1.5
# Iteration mode: one iteration of VROOM's share counts as this many seconds
# of FULL_SEARCH_SECONDS's fit when its level is chosen (iteration_level).
# Without a timeout VROOM searches to the end, about 3 times the fitted time
# (level 1 on one thread: 27-31 s on a 1,145-shipment Jessr day, fit 10.7 s;
# level 2: 254 s on a loaded machine; 2026-12-07, AMD EPYC), so one iteration
# buys VROOM about 30 ms of search, what one PyVRP iteration takes on that
# day (28-40 ms). On it level 1 holds up to N ~ 3,300, level 2 to ~ 6,500.
ITERATION_SECONDS = 0.01


def exploration_level(active: int, seconds: float, threads: int) -> int:
    """The most thorough exploration level whose whole search fits in ``seconds``.

    ``active``: shipments routed; ``threads``: VROOM's search threads (its
    searches are shared between them). Fits: predicted within ``OVERRUN``
    times ``seconds``. Level 1 when none fits. A pure function of its
    arguments, so reproducible runs stay reproducible. Calibrated on Jessr
    days (see ``FULL_SEARCH_SECONDS``).
    """
    for level in range(MAX_EXPLORATION, 1, -1):
        if search_seconds(level, active, threads) <= OVERRUN * seconds:
            return level
    return 1


def iteration_level(active: int, iterations: int) -> int:
    """VROOM's exploration level in iteration mode (``SolveParams.iterations``).

    VROOM counts no iterations; its share of them buys the most thorough
    level whose whole one-thread search is predicted to fit in
    ``iterations`` x :data:`ITERATION_SECONDS` (:func:`exploration_level`'s
    fit). A pure function of its arguments: the level, and so the plan,
    never depends on the machine.
    """
    return exploration_level(active, iterations * ITERATION_SECONDS, 1)


def search_seconds(level: int, active: int, threads: int) -> float:
    """Predicted seconds of VROOM's whole search at ``level`` (Jessr days' fit)."""
    return FULL_SEARCH_SECONDS[level - 1] * (active / 1000) ** SEARCH_EXPONENT / max(1, threads)


def solve_vroom(problem: RoutingProblem, im: IntegerModel, call: BackendCall) -> Routes:
    """Solve with VROOM; returns routes by vehicle index."""
    vehs = problem.vehicles
    ships = problem.shipments
    active = list(call.active)
    if not active or not vehs:
        return {}
    locs, nh = local_locations(problem, active)
    row = {int(p): i for i, p in enumerate(locs)}
    sub = np.ix_(locs, locs)
    extra = leave_stop_matrix(len(locs), nh, im.stop)
    inp = vroom.Input()
    classes = sorted(set(im.vehicle_class))
    for c in classes:
        dur = im.travel[c][sub] + extra
        np.fill_diagonal(dur, 0)
        inp.set_durations_matrix(f"s{c}", dur.astype(np.uint32))
        cost = im.dist[sub].copy()
        np.fill_diagonal(cost, 0)
        inp.set_costs_matrix(f"s{c}", cost.astype(np.uint32))
    home_row = {int(h): i for i, h in enumerate(locs[:nh])}
    for v, veh in enumerate(vehs):
        inp.add_vehicle(
            vroom.Vehicle(
                id=v,
                start=home_row[veh.start],
                end=home_row[veh.end],
                profile=f"s{im.vehicle_class[v]}",
                capacity=[int(im.capacity[v])],
                time_window=vroom.TimeWindow(int(im.shift_start[v]), int(im.shift_end[v])),
                costs=vroom.VehicleCosts(fixed=int(im.fixed_cost[v])),
            )
        )
    top = max(float(ships[k].value) for k in active) or 1.0
    for k in active:
        s = ships[k]
        prio = 100 if s.required else max(1, min(99, round(99 * s.value / top)))
        if s.pickup is None:
            code = 2 * k + 1
            inp.add_job(
                vroom.Job(
                    id=code,
                    location=row[s.delivery],
                    default_service=int(im.node_service[code]),
                    delivery=vroom.Amount([int(im.load[k])]),
                    time_windows=[
                        vroom.TimeWindow(int(im.node_open[code]), int(im.node_close[code]))
                    ],
                    priority=prio,
                )
            )
            continue
        steps = []
        for code, at in ((2 * k, s.pickup), (2 * k + 1, s.delivery)):
            steps.append(
                vroom.ShipmentStep(
                    id=code,
                    location=row[at],
                    default_service=int(im.node_service[code]),
                    time_windows=[
                        vroom.TimeWindow(int(im.node_open[code]), int(im.node_close[code]))
                    ],
                )
            )
        inp.add_shipment(steps[0], steps[1], amount=vroom.Amount([int(im.load[k])]), priority=prio)
    # VROOM's search depends on its timeout (ties broken differently when it
    # binds), so reproducible runs (max_iterations set) give it none.
    timeout = (
        None if call.max_iterations is not None else timedelta(seconds=max(call.time_limit, 0.05))
    )
    threads = max(1, call.threads)
    level = call.vroom_exploration or exploration_level(len(active), call.time_limit, threads)
    log.debug(
        "vroom: level %d, %d shipments, %.2f s, %d threads",
        level,
        len(active),
        call.time_limit,
        threads,
    )
    if call.report is not None:
        call.report.update(level=level, threads=threads)
    sol = inp.solve(exploration_level=level, nb_threads=threads, timeout=timeout)
    df = sol.routes
    out: Routes = {}
    for vid, typ, jid in zip(df["vehicle_id"], df["type"], df["id"], strict=True):
        if typ in ("pickup", "delivery", "job"):
            out.setdefault(int(vid), []).append(int(jid))
    if call.max_iterations is not None:
        # Reproducible runs: VROOM picks among equal-cost solutions by
        # something that varies from run to run (routing.canonical).
        out = canonical_routes(problem, im, out)
    return out
