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

Depot-loaded deliveries (``Shipment.pickup is None``) are PyVRP *clients*
with ``delivery=[load]`` (loaded at the start depot), real pairs are PyVRP
*shipments*; both kinds live in one model and one load dimension. On VRPTW
and CVRP (all depot-loaded) this is exactly PyVRP's native model, which is
far stronger than the same customers posed as depot→customer pairs (twice
the nodes, pairing moves only): Jessr on RC201 at 10 s went from 1650 to 1414.

On the benchmarks' hierarchical objective the time goes to three phases:
fleet minimisation (:mod:`routing.backends.pyvrp_fleet`, at most
``FLEET_SHARE``), then on models with pairs ruin and recreate at the fleet
reached (:mod:`routing.backends.ruin`, ``RUIN_SHARE`` of what is left),
then PyVRP's own search from the best plan so far.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pyvrp
from pyvrp import stop as pstop
from pyvrp.exceptions import PenaltyBoundWarning

from routing.backends import BackendCall, Routes
from routing.backends.pyvrp_fleet import minimise_fleet
from routing.problem import RoutingProblem
from routing.scaling import IntegerModel

# Of PyVRP's budget, spent at most on fleet minimisation when it applies.
FLEET_SHARE = 0.5
# Of what is left after it, spent on ruin and recreate at the fleet reached,
# when the model has pickup-and-delivery pairs (see _ruin_first).
RUIN_SHARE = 0.5


def solve_pyvrp(problem: RoutingProblem, im: IntegerModel, call: BackendCall) -> Routes:
    """Solve with PyVRP; returns routes by vehicle index."""
    ships = problem.shipments
    vehs = problem.vehicles
    active = list(call.active)
    if not active or not vehs:
        return {}
    homes = sorted({v.start for v in vehs} | {v.end for v in vehs})
    client_locs = sorted(
        {ships[k].first_location for k in active} | {ships[k].delivery for k in active}
    )
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
    lf = load_factor(im)
    vtypes = [
        pyvrp.VehicleType(
            num_available=len(groups[key]),
            capacity=[key[2] * lf],
            start_depot=depot_of[key[0]],
            end_depot=depot_of[key[1]],
            fixed_cost=key[6],
            tw_early=key[3],
            tw_late=key[4],
            profile=classes.index(key[5]),
        )
        for key in keys
    ]
    # Activity index -> shipment index, per PyVRP kind.
    client_ks = [k for k in active if ships[k].pickup is None]
    pair_ks = [k for k in active if ships[k].pickup is not None]
    clients = [
        pyvrp.Client(
            location=cloc_of[ships[k].delivery],
            delivery=[int(im.load[k]) * lf],
            service_duration=int(im.node_service[2 * k + 1]),
            tw_early=int(im.node_open[2 * k + 1]),
            tw_late=int(im.node_close[2 * k + 1]),
            prize=int(im.prize[k]),
            required=ships[k].required,
        )
        for k in client_ks
    ]
    shipments = []
    for k in pair_ks:
        s = ships[k]
        assert s.pickup is not None
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
                amount=[int(im.load[k]) * lf],
                prize=int(im.prize[k]),
                required=s.required,
            )
        )
    data = pyvrp.ProblemData(
        locations, clients, depots, vtypes, [dist] * len(classes), durations, [], shipments
    )
    budget = max(call.time_limit, 0.01)
    initial = _initial_solution(data, call.initial, client_ks, pair_ks, groups, keys)
    phased = _fleet_first(problem, im, active, len(vtypes))
    if phased:
        # Fixed costs dominate and everything is required (benchmarks): the
        # plain search rarely sheds a whole route, so first look for a plan
        # with one route fewer than the warm start, then the next, ...
        started = time.monotonic()
        data, initial = minimise_fleet(
            data,
            initial,
            FLEET_SHARE * budget,
            call.seed,
            SOLVE_PARAMS,
            call.max_iterations,
            call.patient_fleet,
        )
        budget = max(budget - (time.monotonic() - started), 0.01)
        if RUIN_SHARE > 0 and initial is not None and _ruin_first(data):
            from routing.backends import ruin  # numba: only benchmark-like problems pay

            started = time.monotonic()
            better = ruin.improve(
                data, initial, RUIN_SHARE * budget, call.seed, call.max_iterations
            )
            initial = better or initial
            budget = max(budget - (time.monotonic() - started), 0.01)
    # An infinite time limit is iteration mode (SolveParams.iterations): the
    # iteration count alone stops the search, so the plan never depends on
    # the machine's speed or load.
    criteria: list[pstop.StoppingCriterion] = (
        [pstop.MaxRuntime(budget)] if math.isfinite(budget) else []
    )
    if call.max_iterations is not None:
        criteria.append(pstop.MaxIterations(call.max_iterations))
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
            params=SOLVE_PARAMS,
            initial_solution=initial,
        )
    if call.report is not None:
        # One search from the warm start: its iteration count replays it. The
        # fleet and ruin phases before it decide by the clock (stall seconds),
        # so a phased run is recorded by its routes instead (routing.record).
        call.report.update(iterations=res.num_iterations, phased=phased)
    pools = {i: list(groups[key]) for i, key in enumerate(keys)}
    out: Routes = {}
    for route in res.best.routes():
        nodes = []
        for act in route:
            if act.is_client():
                nodes.append(2 * client_ks[act.idx] + 1)
            elif act.is_pickup():
                nodes.append(2 * pair_ks[act.idx])
            elif act.is_delivery():
                nodes.append(2 * pair_ks[act.idx] + 1)
        if nodes:
            out[pools[route.vehicle_type()].pop(0)] = nodes
    return out


def load_factor(im: IntegerModel) -> int:
    """Multiplier that puts PyVRP's loads in the units of its distances and times.

    PyVRP's penalty range (0.1 … 100,000 cost units per unit of excess load
    or time warp) is tuned for instances in their natural units, where one
    unit of load, of time and of distance are of like size. Our integer
    model counts distance and time in 1/1000 (``dist_scale``,
    ``time_scale``) but integer loads unscaled (``load_scale`` 1), so a
    unit of excess load was worth 1000 times too little: on capacity-tight
    CVRPLIB X the ceiling sat below what an overloaded route saves, and
    PyVRP kept infeasible plans (X-n801 at 10 s: 77,798 before, 74,778
    after). Multiplying loads and capacities by ``dist_scale / load_scale``
    restores natural proportions for load *without* touching the time-warp
    range, which was already in natural proportion (scaling the penalty
    bounds instead raised the time-warp floor 1000-fold too).
    """
    return max(1, im.dist_scale // im.load_scale)


# PyVRP's own defaults: see load_factor for why they fit our units.
SOLVE_PARAMS = pyvrp.SolveParams()


def _fleet_first(
    problem: RoutingProblem, im: IntegerModel, active: list[int], num_types: int
) -> bool:
    """The gate of the benchmark-only phases (fleet minimisation, ruin and recreate).

    True only on benchmark objectives: one vehicle type, every shipment
    required and routable, fixed costs above any detour. A Jessr day
    (optional shipments, no fixed costs) never passes it.
    """
    return (
        num_types == 1
        and len(active) == len(problem.shipments)
        and all(s.required for s in problem.shipments)
        and int(im.fixed_cost.min()) > 4 * int(im.dist.max(initial=0))
    )


def _ruin_first(data: pyvrp.ProblemData) -> bool:
    """Ruin and recreate before PyVRP's distance search: on models with pairs.

    Measured at the reduced fleet (2026-12-01, Intel Xeon, ``docs/experiments.md``): on
    Li & Lim 400 at 60 s it beat PyVRP's search alone on 12 of 16 instances
    (lc2_4_9 27.0 % → 0.0 % above the BKS distance); on Solomon at 10 s
    (clients only, where PyVRP's operators are at their strongest) it was a
    wash, better on 19 and worse on 18, and worse on the long-route R2/RC2
    class.
    """
    return data.num_shipments > 0


def _initial_solution(
    data: pyvrp.ProblemData,
    initial: Routes | None,
    client_ks: list[int],
    pair_ks: list[int],
    groups: dict[tuple, list[int]],
    keys: list[tuple],
) -> pyvrp.Solution | None:
    """Warm start from routes found by another backend (or ``None``)."""
    if not initial:
        return None
    cpos = {k: i for i, k in enumerate(client_ks)}
    ppos = {k: i for i, k in enumerate(pair_ks)}
    type_of = {v: t for t, key in enumerate(keys) for v in groups[key]}

    def activity(code: int) -> pyvrp.Activity:
        k = code >> 1
        if k in cpos:
            return pyvrp.Activity(pyvrp.ActivityType.CLIENT, cpos[k])
        kind = pyvrp.ActivityType.DELIVERY if code & 1 else pyvrp.ActivityType.PICKUP
        return pyvrp.Activity(kind, ppos[k])

    routes = []
    for v, nodes in sorted(initial.items()):
        if not nodes or any((c >> 1) not in cpos and (c >> 1) not in ppos for c in nodes):
            continue
        acts = [activity(c) for c in nodes]
        routes.append(pyvrp.Route(data, acts, type_of[v]))
    try:
        return pyvrp.Solution(data, routes)
    except (ValueError, RuntimeError):  # e.g. more routes of a type than available
        return None
