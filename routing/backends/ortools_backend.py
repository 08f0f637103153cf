"""OR-Tools backend: pickup-and-delivery pairs with capacity and time dimensions.

Why OR-Tools: it is the client's stated solver and a robust second opinion;
guided local search from a warm start (the best routes of the backends run
before it, via ``ReadAssignmentFromRoutes``) often shaves distance. Cold, it
starts from PARALLEL_CHEAPEST_INSERTION: PATH_CHEAPEST_ARC fails to find any
solution on tight windows.

Model: one node per pickup/delivery plus one node per vehicle home; transit
matrices (not Python callbacks: far faster) for distance and for time, one
time matrix per speed class. Time transit i→j = service(i) + travel(i, j) +
stop time when i is a client and j is another location. Optional pairs get a
disjunction whose penalty is the shipment's prize (see
:mod:`routing.scaling`); required pairs have none.

A depot-loaded delivery is one node with demand ``-load``; when there are
any, the load cumul at a vehicle's start is left free in [0, capacity]
instead of fixed to 0, so a route leaves with at least its depot-loaded
total on board (the end cumul must stay >= 0) and never more than the
capacity — the evaluator's rule, with no extra node.
"""

from __future__ import annotations

import math

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.backends import BackendCall, Routes
from routing.backends.common import leave_stop_matrix, local_locations
from routing.problem import RoutingProblem
from routing.scaling import IntegerModel


def solve_ortools(problem: RoutingProblem, im: IntegerModel, call: BackendCall) -> Routes:
    """Solve with OR-Tools routing; returns routes by vehicle index."""
    vehs = problem.vehicles
    active = list(call.active)
    if not active or not vehs:
        return {}
    locs, nh = local_locations(problem, active)
    # Nodes 0..len(ship_codes)-1 are shipment nodes (a depot-loaded delivery
    # has no pickup node), then one node per home.
    ship_codes = np.array(
        [c for k in active for c in ((2 * k + 1,) if im.depot_loaded[k] else (2 * k, 2 * k + 1))],
        dtype=np.int64,
    )
    node_of = {int(c): i for i, c in enumerate(ship_codes)}
    home_node = {int(h): len(ship_codes) + i for i, h in enumerate(locs[:nh])}
    loc_row = {int(p): i for i, p in enumerate(locs)}
    node_row = np.array(
        [loc_row[int(im.node_loc[c])] for c in ship_codes] + list(range(nh)), dtype=np.int64
    )
    n = len(node_row)
    sub = np.ix_(locs[node_row], locs[node_row])
    dist = im.dist[sub].copy()
    service = np.concatenate([im.node_service[ship_codes], np.zeros(nh, dtype=np.int64)])
    extra = leave_stop_matrix(len(locs), nh, im.stop)[np.ix_(node_row, node_row)]
    same = node_row[:, None] == node_row[None, :]
    dist[same] = 0

    manager = pywrapcp.RoutingIndexManager(
        n, len(vehs), [home_node[v.start] for v in vehs], [home_node[v.end] for v in vehs]
    )
    routing = pywrapcp.RoutingModel(manager)
    dist_cb = routing.RegisterTransitMatrix(dist.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    for v in range(len(vehs)):
        routing.SetFixedCostOfVehicle(int(im.fixed_cost[v]), v)

    time_cbs = {}
    for c in sorted(set(im.vehicle_class)):
        t = im.travel[c][sub] + extra + service[:, None]
        t[same] = service[np.nonzero(same)[0]]  # same location: no travel, no extra stop
        np.fill_diagonal(t, 0)
        time_cbs[c] = routing.RegisterTransitMatrix(t.tolist())
    horizon = int(max(im.horizon, int(im.node_close.max(initial=0)))) + 1
    routing.AddDimensionWithVehicleTransits(
        [time_cbs[im.vehicle_class[v]] for v in range(len(vehs))],
        horizon,
        horizon,
        False,
        "Time",
    )
    time_dim = routing.GetDimensionOrDie("Time")
    demand = np.zeros(n, dtype=np.int64)
    shipment_of = ship_codes >> 1
    sign = np.where(ship_codes & 1, -1, 1)
    demand[: len(ship_codes)] = sign * im.load[shipment_of]
    load_cb = routing.RegisterUnaryTransitVector(demand.tolist())
    any_depot_loaded = bool(im.depot_loaded[active].any())
    routing.AddDimensionWithVehicleCapacity(
        load_cb, 0, im.capacity.tolist(), not any_depot_loaded, "Load"
    )

    solver = routing.solver()
    for k in active:
        q = manager.NodeToIndex(node_of[2 * k + 1])
        if im.depot_loaded[k]:
            pair = [q]
        else:
            p = manager.NodeToIndex(node_of[2 * k])
            routing.AddPickupAndDelivery(p, q)
            solver.Add(routing.VehicleVar(p) == routing.VehicleVar(q))
            solver.Add(time_dim.CumulVar(p) <= time_dim.CumulVar(q))
            pair = [p, q]
        for idx in pair:
            code = int(ship_codes[manager.IndexToNode(idx)])
            time_dim.CumulVar(idx).SetRange(int(im.node_open[code]), int(im.node_close[code]))
        if not problem.shipments[k].required:
            routing.AddDisjunction(pair, int(im.prize[k]), len(pair))
    for v in range(len(vehs)):
        start = int(im.shift_start[v])
        time_dim.CumulVar(routing.Start(v)).SetRange(start, start)
        time_dim.CumulVar(routing.End(v)).SetRange(start, int(im.shift_end[v]))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    if math.isfinite(call.time_limit):
        params.time_limit.FromMilliseconds(max(10, int(call.time_limit * 1000)))
    # else iteration mode (SolveParams.iterations): the solution limit alone
    # stops the search, which is then deterministic (one thread).
    if call.max_iterations is not None:
        params.solution_limit = call.max_iterations
    routing.CloseModelWithParameters(params)

    solution = None
    if call.initial:
        seed_routes = []
        for v in range(len(vehs)):
            nodes = call.initial.get(v, [])
            seed_routes.append(
                [node_of[c] for c in nodes] if all(c in node_of for c in nodes) else []
            )
        initial = routing.ReadAssignmentFromRoutes(seed_routes, True)
        if initial is not None:
            solution = routing.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        return {}
    out: Routes = {}
    for v in range(len(vehs)):
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        nodes = []
        while not routing.IsEnd(idx):
            nodes.append(int(ship_codes[manager.IndexToNode(idx)]))
            idx = solution.Value(routing.NextVar(idx))
        if nodes:
            out[v] = nodes
    return out
