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

from datetime import timedelta

import numpy as np
import vroom

from routing.backends import BackendCall, Routes
from routing.backends.common import leave_stop_matrix, local_locations
from routing.problem import RoutingProblem
from routing.scaling import IntegerModel

EXPLORATION = 5  # VROOM's most thorough level; still sub-second at 100-200 tasks


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
    sol = inp.solve(exploration_level=EXPLORATION, nb_threads=max(1, call.threads), timeout=timeout)
    df = sol.routes
    out: Routes = {}
    for vid, typ, jid in zip(df["vehicle_id"], df["type"], df["id"], strict=True):
        if typ in ("pickup", "delivery", "job"):
            out.setdefault(int(vid), []).append(int(jid))
    return out
