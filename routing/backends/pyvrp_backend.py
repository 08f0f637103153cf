"""PyVRP backend: iterated local search with native paired shipments.

Why PyVRP: in our measurements it is the strongest of the three on Li & Lim
PDPTW at equal time (see :mod:`routing.portfolio`), it supports optional
shipments with prizes, several depots (vehicle homes), and routing profiles
(one duration matrix per vehicle speed).

Mapping: every distinct vehicle home gets its own PyVRP *depot location*,
separate from client locations even at the same coordinates, so the stop time
can be put on edges: leaving a client location for a different location costs
``stop`` extra (the stop's fixed time, paid once per stop since edges between
nodes at one location cost 0); leaving a depot does not. Vehicles with equal
(start, end, capacity, shift, speed, fixed cost) share one vehicle type.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pyvrp
from pyvrp import stop as pstop
from pyvrp.exceptions import PenaltyBoundWarning

from routing.backends import BackendCall, Routes
from routing.problem import RoutingProblem
from routing.scaling import IntegerModel

FLEET_SHARE = 0.4  # of PyVRP's budget spent on fleet minimisation when it applies


def solve_pyvrp(problem: RoutingProblem, im: IntegerModel, call: BackendCall) -> Routes:
    """Solve with PyVRP; returns routes by vehicle index."""
    ships = problem.shipments
    vehs = problem.vehicles
    active = list(call.active)
    if not active or not vehs:
        return {}
    homes = sorted({v.start for v in vehs} | {v.end for v in vehs})
    client_locs = sorted({ships[k].pickup for k in active} | {ships[k].delivery for k in active})
    prob_loc = np.array(homes + client_locs, dtype=np.int64)
    nd = len(homes)
    depot_of = {h: i for i, h in enumerate(homes)}
    cloc_of = {c: nd + i for i, c in enumerate(client_locs)}

    locations = [pyvrp.Location(x=0.0, y=0.0) for _ in prob_loc]
    depots = [pyvrp.Depot(location=i) for i in range(nd)]
    sub = np.ix_(prob_loc, prob_loc)
    dist = im.dist[sub].copy()
    np.fill_diagonal(dist, 0)
    # Stop time rides on edges leaving a client location for another location.
    leave_stop = np.zeros_like(dist)
    leave_stop[nd:, :] = im.stop
    np.fill_diagonal(leave_stop, 0)
    classes = sorted(set(im.vehicle_class))
    durations = []
    for c in classes:
        dur = im.travel[c][sub] + leave_stop
        np.fill_diagonal(dur, 0)
        durations.append(dur)

    # Vehicle types: group identical vehicles, remember which real vehicles.
    groups: dict[tuple, list[int]] = {}
    for v, veh in enumerate(vehs):
        key = (
            veh.start,
            veh.end,
            int(im.capacity[v]),
            int(im.shift_start[v]),
            int(im.shift_end[v]),
            im.vehicle_class[v],
            int(im.fixed_cost[v]),
        )
        groups.setdefault(key, []).append(v)
    keys = list(groups)
    vtypes = [
        pyvrp.VehicleType(
            num_available=len(groups[key]),
            capacity=[key[2]],
            start_depot=depot_of[key[0]],
            end_depot=depot_of[key[1]],
            fixed_cost=key[6],
            tw_early=key[3],
            tw_late=key[4],
            profile=classes.index(key[5]),
        )
        for key in keys
    ]
    shipments = []
    for k in active:
        s = ships[k]
        shipments.append(
            pyvrp.Shipment(
                pickup_location=cloc_of[s.pickup],
                delivery_location=cloc_of[s.delivery],
                pickup_tw_early=int(im.node_open[2 * k]),
                pickup_tw_late=int(im.node_close[2 * k]),
                pickup_service_duration=int(im.node_service[2 * k]),
                delivery_tw_early=int(im.node_open[2 * k + 1]),
                delivery_tw_late=int(im.node_close[2 * k + 1]),
                delivery_service_duration=int(im.node_service[2 * k + 1]),
                amount=[int(im.load[k])],
                prize=int(im.prize[k]),
                required=s.required,
            )
        )
    data = pyvrp.ProblemData(
        locations, [], depots, vtypes, [dist] * len(classes), durations, [], shipments
    )
    budget = max(call.time_limit, 0.01)
    if _fleet_first(problem, im, active, len(vtypes)):
        # Fixed costs dominate and everything is required (benchmarks): the
        # plain search rarely sheds a whole route, so find the smallest fleet
        # that admits a feasible plan first (PyVRP's minimise_fleet).
        share = FLEET_SHARE * budget
        fstop: pstop.StoppingCriterion = (
            pstop.MaxIterations(call.max_iterations)
            if call.max_iterations is not None
            else pstop.MaxRuntime(share)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            fleet = pyvrp.minimise_fleet(data, fstop, seed=call.seed)
        data = data.replace(vehicle_types=[fleet])
        budget -= share
        if call.initial and len(call.initial) > fleet.num_available:
            call = replace(call, initial=None)
    criteria: list[pstop.StoppingCriterion] = [pstop.MaxRuntime(budget)]
    if call.max_iterations is not None:
        criteria.append(pstop.MaxIterations(call.max_iterations))
    initial = _initial_solution(data, call.initial, active, groups, keys)
    # PyVRP warns when its penalties hit their bounds (a tuning hint, not an
    # error); our float repair handles whatever it returns.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        res = pyvrp.solve(
            data,
            pstop.MultipleCriteria(criteria),
            seed=call.seed,
            collect_stats=False,
            display=False,
            initial_solution=initial,
        )
    pools = {i: list(groups[key]) for i, key in enumerate(keys)}
    out: Routes = {}
    for route in res.best.routes():
        nodes = []
        for act in route:
            if act.is_pickup():
                nodes.append(2 * active[act.idx])
            elif act.is_delivery():
                nodes.append(2 * active[act.idx] + 1)
        if nodes:
            out[pools[route.vehicle_type()].pop(0)] = nodes
    return out


def _fleet_first(
    problem: RoutingProblem, im: IntegerModel, active: list[int], num_types: int
) -> bool:
    return (
        num_types == 1
        and len(active) == len(problem.shipments)
        and all(s.required for s in problem.shipments)
        and int(im.fixed_cost.min()) > 4 * int(im.dist.max(initial=0))
    )


def _initial_solution(
    data: pyvrp.ProblemData,
    initial: Routes | None,
    active: list[int],
    groups: dict[tuple, list[int]],
    keys: list[tuple],
) -> pyvrp.Solution | None:
    """Warm start from routes found by another backend (or ``None``)."""
    if not initial:
        return None
    pos = {k: i for i, k in enumerate(active)}
    type_of = {v: t for t, key in enumerate(keys) for v in groups[key]}
    routes = []
    for v, nodes in sorted(initial.items()):
        if not nodes or any((c >> 1) not in pos for c in nodes):
            continue
        acts = [
            pyvrp.Activity(
                pyvrp.ActivityType.DELIVERY if c & 1 else pyvrp.ActivityType.PICKUP, pos[c >> 1]
            )
            for c in nodes
        ]
        routes.append(pyvrp.Route(data, acts, type_of[v]))
    try:
        return pyvrp.Solution(data, routes)
    except (ValueError, RuntimeError):  # e.g. more routes of a type than available
        return None
