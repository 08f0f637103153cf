"""The solvers the routing benchmark compares, each used the textbook way.

* ``pyvrp``   — :class:`pyvrp.Model` (shipments for Li & Lim, clients otherwise),
  stopped by :class:`pyvrp.stop.MaxRuntime`;
* ``vroom``   — pyvroom (shipments for Li & Lim, jobs otherwise), exploration level 5
  with vroom's own timeout, a search thread per core (:data:`CORES`);
* ``ortools`` — the OR-Tools routing guide's recipe: ``RoutingModel`` with capacity and
  time dimensions, pickup-and-delivery pairs (same vehicle, pickup first),
  ``PATH_CHEAPEST_ARC`` + ``GUIDED_LOCAL_SEARCH`` and a time limit;
* ``jessr``   — the project's own :func:`routing.solve` (Solomon and X customers become
  depot-loaded deliveries, ``Shipment(pickup=None)``: routing's native delivery-only
  model, like the PyVRP and VROOM peers' clients/jobs), one independent search per
  core (``SolveParams.searches``, :mod:`routing.multistart`).

Solvers run one at a time and each may use the machine's cores (:data:`CORES`): VROOM
and Jessr do; PyVRP and OR-Tools' routing search are single-threaded libraries.

Every adapter returns routes as lists of the instance's own node numbers (depot left
out); it never scores them — :mod:`bench.feasibility` does.

Integer scaling (PyVRP, VROOM and OR-Tools need integers): for Li & Lim and Solomon the
exact Euclidean distance is multiplied by :data:`TIME_SCALE` = 1000 and rounded *up*
(``ceil``), and windows/service times (integers in these files) are multiplied by the
same factor. Rounding travel times up makes every schedule a solver accepts also
feasible in exact arithmetic (each arrival is an upper bound of the exact one), while
the error on distance stays below 0.001 per arc. X distances are already integers
(``nint``) and are used unscaled.

Objective: the BKS of Li & Lim and Solomon are hierarchical (vehicles first, then
distance), so there every solver is given the same fixed cost per used vehicle,
:data:`VEHICLE_FIXED_COST` distance units — far more than a route's length, so one vehicle
less always wins. X minimises distance only (fleet unbounded), so no fixed cost there.
``objective="distance"`` drops the fixed cost everywhere.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import numpy as np

from bench.instances import Instance, distance_matrix

TIME_SCALE = 1000
# Cores a solver may use: the benchmark machine's two, or fewer where there are fewer.
CORES = max(1, min(2, os.cpu_count() or 1))
# One vehicle is worth this many distance units. Li & Lim 400-task routes are a few
# hundred long and removing a vehicle rarely costs more than one route's length, so
# 10 000 makes the objective lexicographic in practice without overflowing any solver
# once scaled (10 000 × 1000 = 1e7, well inside VROOM's and OR-Tools' integer costs).
VEHICLE_FIXED_COST = 10_000.0
SOLVERS: tuple[str, ...] = ("jessr", "pyvrp", "vroom", "ortools")

Objective = Literal["hierarchical", "distance"]


@dataclass
class PeerResult:
    """Routes (instance node numbers, depot excluded) plus solver-reported extras."""

    routes: list[list[int]]
    info: dict[str, Any] = field(default_factory=dict)


class NoSolution(RuntimeError):
    """The solver ran but returned nothing usable (message says why)."""


# --- shared integer model ---------------------------------------------------------------


@dataclass(frozen=True)
class _IntModel:
    """The instance in solver integers: matrix, windows, service, demands, fleet, fixed cost."""

    dist: np.ndarray  # int64 n×n, travel time = distance
    windows: list[tuple[int, int]] | None
    service: list[int]
    demands: list[int]
    fleet: int
    fixed_cost: int
    scale: int


def _int_model(instance: Instance, objective: Objective) -> _IntModel:
    d = distance_matrix(instance)
    if instance.rounding == "nint":
        scale = 1
        dist = d.astype(np.int64)
    else:
        scale = TIME_SCALE
        # ceil, minus a hair so exact integers (d = 5.0 → 5000.0000001) do not round up.
        dist = np.ceil(d * scale - 1e-6).astype(np.int64)
        np.fill_diagonal(dist, 0)
    windows = (
        None
        if instance.windows is None
        else [(round(a * scale), round(b * scale)) for a, b in instance.windows]
    )
    hierarchical = objective == "hierarchical" and instance.windows is not None
    return _IntModel(
        dist=dist,
        windows=windows,
        service=[round(s * scale) for s in instance.service],
        demands=list(instance.demands),
        fleet=instance.suggested_fleet(),
        fixed_cost=round(VEHICLE_FIXED_COST * scale) if hierarchical else 0,
        scale=scale,
    )


# --- PyVRP ------------------------------------------------------------------------------


def solve_pyvrp(
    instance: Instance, time_limit: float, seed: int = 0, objective: Objective = "hierarchical"
) -> PeerResult:
    """PyVRP's Model: shipments (Li & Lim) or clients (Solomon, X); MaxRuntime stop."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    im = _int_model(instance, objective)
    model = pyvrp.Model()
    locs = [model.add_location(x=x, y=y) for x, y in instance.coords]
    big = np.iinfo(np.int64).max
    depot_tw = im.windows[0] if im.windows else (0, big)
    depot = model.add_depot(locs[0], tw_early=depot_tw[0], tw_late=depot_tw[1])
    model.add_vehicle_type(
        num_available=im.fleet,
        capacity=instance.capacity,
        start_depot=depot,
        end_depot=depot,
        fixed_cost=im.fixed_cost,
        tw_early=depot_tw[0],
        tw_late=depot_tw[1],
    )

    def tw(node: int) -> tuple[int, int]:
        return im.windows[node] if im.windows else (0, big)

    # Activity index -> instance node, filled in the order PyVRP numbers them.
    client_node: list[int] = []
    shipment_nodes: list[tuple[int, int]] = []
    if instance.pairs:
        for p, d in instance.pairs:
            model.add_shipment(
                locs[p],
                locs[d],
                pickup_tw_early=tw(p)[0],
                pickup_tw_late=tw(p)[1],
                pickup_service_duration=im.service[p],
                delivery_tw_early=tw(d)[0],
                delivery_tw_late=tw(d)[1],
                delivery_service_duration=im.service[d],
                amount=im.demands[p],
            )
            shipment_nodes.append((p, d))
    else:
        for v in instance.customers:
            model.add_client(
                locs[v],
                delivery=im.demands[v],
                service_duration=im.service[v],
                tw_early=tw(v)[0],
                tw_late=tw(v)[1],
            )
            client_node.append(v)
    # The matrices go in whole instead of n² add_edge calls: same ProblemData, but building
    # a million Edge objects for X-n1001 would eat a good part of the time limit.
    data = model.data().replace(distance_matrices=[im.dist], duration_matrices=[im.dist])
    result = pyvrp.solve(data, MaxRuntime(time_limit), seed=seed, display=False)
    best = result.best
    routes: list[list[int]] = []
    for route in best.routes():
        nodes: list[int] = []
        for act in route:
            if act.is_client():
                nodes.append(client_node[act.idx])
            elif act.is_pickup():
                nodes.append(shipment_nodes[act.idx][0])
            elif act.is_delivery():
                nodes.append(shipment_nodes[act.idx][1])
        routes.append(nodes)
    info = {
        "solver_feasible": bool(best.is_feasible()),
        "iterations": int(result.num_iterations),
    }
    if not best.is_feasible() and not best.is_complete():
        info["solver_note"] = "best solution incomplete"
    return PeerResult(routes, info)


# --- VROOM ------------------------------------------------------------------------------


def solve_vroom(
    instance: Instance, time_limit: float, seed: int = 0, objective: Objective = "hierarchical"
) -> PeerResult:
    """pyvroom: shipments (Li & Lim) or jobs; exploration level 5, vroom's timeout, CORES threads.

    VROOM is deterministic; ``seed`` is accepted for a uniform signature only. Its cost is
    the travel duration (``per_hour=3600`` → one cost unit per time unit) plus the fixed
    cost per used vehicle, so the duration matrix is the scaled distance matrix.
    """
    del seed  # deterministic solver
    import vroom

    im = _int_model(instance, objective)
    if int(im.dist.max()) >= 2**32:
        raise NoSolution("distances exceed VROOM's 32-bit matrix")
    problem = vroom.Input()
    problem.set_durations_matrix("car", im.dist.astype(np.uint32))

    def windows(node: int) -> list[Any]:
        return [vroom.TimeWindow(*im.windows[node])] if im.windows else []

    depot_window = vroom.TimeWindow(*im.windows[0]) if im.windows else None
    for k in range(im.fleet):
        problem.add_vehicle(
            vroom.Vehicle(
                id=k,
                start=0,
                end=0,
                capacity=[instance.capacity],
                time_window=depot_window,
                costs=vroom.VehicleCosts(fixed=im.fixed_cost, per_hour=3600),
            )
        )
    if instance.pairs:
        for p, d in instance.pairs:
            problem.add_shipment(
                pickup=vroom.ShipmentStep(
                    id=p, location=p, default_service=im.service[p], time_windows=windows(p)
                ),
                delivery=vroom.ShipmentStep(
                    id=d, location=d, default_service=im.service[d], time_windows=windows(d)
                ),
                amount=vroom.Amount([im.demands[p]]),
            )
    else:
        for v in instance.customers:
            problem.add_job(
                vroom.Job(
                    id=v,
                    location=v,
                    default_service=im.service[v],
                    delivery=[im.demands[v]],
                    time_windows=windows(v),
                )
            )
    # VROOM's timeout bounds its search; building the input is outside it (milliseconds).
    solution = problem.solve(
        exploration_level=5, nb_threads=CORES, timeout=timedelta(seconds=max(0.1, time_limit))
    )
    frame = solution.routes
    routes: list[list[int]] = []
    for _, group in frame.groupby("vehicle_id", sort=True):
        steps = group[group["type"].isin(["job", "pickup", "delivery"])]
        routes.append([int(x) for x in steps["id"]])
    summary = solution.to_dict().get("summary", {})
    return PeerResult(routes, {"unassigned": int(summary.get("unassigned", 0))})


# --- OR-Tools ---------------------------------------------------------------------------


def solve_ortools(
    instance: Instance, time_limit: float, seed: int = 0, objective: Objective = "hierarchical"
) -> PeerResult:
    """OR-Tools RoutingModel as in its guide: PATH_CHEAPEST_ARC, then GUIDED_LOCAL_SEARCH.

    Node-drop penalties (see below) are the guide's recipe for a guaranteed first solution.

    OR-Tools has no seed for this search; ``seed`` is accepted for a uniform signature.
    """
    del seed
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    im = _int_model(instance, objective)
    n = instance.n_nodes
    manager = pywrapcp.RoutingIndexManager(n, im.fleet, 0)
    routing = pywrapcp.RoutingModel(manager)

    # Matrices instead of Python callbacks: same model, but GLS calls the transit
    # function millions of times and a Python callback would be the bottleneck.
    dist_cb = routing.RegisterTransitMatrix(im.dist.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    if im.fixed_cost:
        routing.SetFixedCostOfAllVehicles(im.fixed_cost)

    demand_cb = routing.RegisterUnaryTransitVector(im.demands)
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [instance.capacity] * im.fleet, True, "Capacity"
    )

    time_dim = None
    if im.windows is not None:
        # Transit time of arc i→j = service at i + travel i→j (the guide's VRPTW recipe).
        service = np.asarray(im.service, dtype=np.int64)
        time_cb = routing.RegisterTransitMatrix((im.dist + service[:, None]).tolist())
        horizon = im.windows[0][1]
        routing.AddDimension(time_cb, horizon, horizon, False, "Time")
        time_dim = routing.GetDimensionOrDie("Time")
        for node in instance.customers:
            time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(*im.windows[node])
        for v in range(im.fleet):
            time_dim.CumulVar(routing.Start(v)).SetRange(*im.windows[0])
            time_dim.CumulVar(routing.End(v)).SetRange(*im.windows[0])

    solver = routing.solver()
    for p, d in instance.pairs:
        pi, di = manager.NodeToIndex(p), manager.NodeToIndex(d)
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        if time_dim is not None:
            solver.Add(time_dim.CumulVar(pi) <= time_dim.CumulVar(di))

    # The guide's "penalties and dropping visits": PATH_CHEAPEST_ARC alone finds no first
    # solution on tight windows (R101, lr101: none in 10 s), so each node may be dropped at
    # a penalty far above any detour or vehicle; GLS then re-inserts. A node still dropped
    # at the end shows up as "not visited" in the checker. A pickup and its delivery are
    # dropped together (AddPickupAndDelivery ties their activity).
    drop_penalty = 100 * max(im.fixed_cost, int(im.dist.max()) * n)
    for node in instance.customers:
        routing.AddDisjunction([manager.NodeToIndex(node)], drop_penalty)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    assignment = routing.SolveWithParameters(params)
    if assignment is None:
        raise NoSolution(f"no solution found (routing status {routing.status()})")
    routes: list[list[int]] = []
    dropped = sum(
        assignment.Value(routing.NextVar(manager.NodeToIndex(node))) == manager.NodeToIndex(node)
        for node in instance.customers
    )
    for v in range(im.fleet):
        idx = routing.Start(v)
        nodes: list[int] = []
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            if node != 0:
                nodes.append(node)
            idx = assignment.Value(routing.NextVar(idx))
        routes.append(nodes)
    return PeerResult(routes, {"routing_status": int(routing.status()), "dropped": int(dropped)})


# --- Jessr (the project's own solver) ---------------------------------------------------


def solve_jessr(
    instance: Instance, time_limit: float, seed: int = 0, objective: Objective = "hierarchical"
) -> PeerResult:
    """The project's :func:`routing.solve`, on the float distance matrix (no rounding here).

    Li & Lim pairs map one-to-one to shipments. Solomon and X customers become
    depot-loaded deliveries (``Shipment(pickup=None)``): loaded at the vehicle's start
    before it leaves, so a route has one stop per customer and can never come back to
    reload (VRPTW/CVRP have no multi-trip routes). Every backend solves that natively
    (PyVRP clients with ``delivery``, VROOM jobs, one OR-Tools node each) — posing them
    as depot→customer pairs doubled the nodes and cost 17 % on RC201 at 10 s. X has no
    horizon, so the shift is a bound no route can reach.
    """
    import routing

    dist = distance_matrix(instance)
    if instance.windows is not None:
        depot_window = (float(instance.windows[0][0]), float(instance.windows[0][1]))
    else:
        # Travel time = distance: no route is longer than visiting every node from the depot.
        depot_window = (0.0, float(2.0 * dist[0].sum() + 1.0))
    fixed = (
        VEHICLE_FIXED_COST if objective == "hierarchical" and instance.windows is not None else 0.0
    )
    vehicles = tuple(
        routing.Vehicle(
            id=f"v{k}",
            start=0,
            end=0,
            capacity=float(instance.capacity),
            shift=depot_window,
            speed=1.0,
            fixed_cost=fixed,
        )
        for k in range(instance.suggested_fleet())
    )

    def window(node: int) -> tuple[float, float]:
        if instance.windows is None:
            return depot_window
        return (float(instance.windows[node][0]), float(instance.windows[node][1]))

    # shipment id -> (pickup node or None when depot-loaded, delivery node)
    nodes_of: dict[str, tuple[int | None, int]] = {}
    shipments = []
    if instance.pairs:
        for p, d in instance.pairs:
            sid = f"p{p}"
            nodes_of[sid] = (p, d)
            shipments.append(
                routing.Shipment(
                    id=sid,
                    pickup=p,
                    delivery=d,
                    load=float(instance.demands[p]),
                    pickup_service=float(instance.service[p]),
                    delivery_service=float(instance.service[d]),
                    pickup_window=window(p),
                    delivery_window=window(d),
                    required=True,
                )
            )
    else:
        for v in instance.customers:
            sid = f"c{v}"
            nodes_of[sid] = (None, v)
            shipments.append(
                routing.Shipment(
                    id=sid,
                    pickup=None,
                    delivery=v,
                    load=float(instance.demands[v]),
                    delivery_service=float(instance.service[v]),
                    delivery_window=window(v),
                    required=True,
                )
            )
    problem = routing.RoutingProblem(
        distance=np.asarray(dist), vehicles=vehicles, shipments=tuple(shipments)
    )
    try:
        # A search per core (routing.multistart), like VROOM's threads.
        params = routing.SolveParams(time_limit=time_limit, workers=CORES, searches=CORES)
    except TypeError:
        params = routing.SolveParams(time_limit=time_limit)
    # The extra searches run on a pool of their own (engine.executors): the
    # solver never forks by itself.
    from engine.executors import process_pool

    with process_pool(params.searches) as executor:
        result = routing.solve(problem, params, seed, executor=executor)
    routes: list[list[int]] = []
    for route in result.routes:
        nodes: list[int] = []
        for stop in route.stops:
            # Deliveries first, as the routing package unloads before loading at a stop.
            for sid in stop.deliveries:
                nodes.append(nodes_of[sid][1])
            for sid in stop.pickups:
                pickup = nodes_of[sid][0]
                if pickup is None:
                    raise NoSolution(f"depot-loaded {sid!r} listed as a pickup stop")
                nodes.append(pickup)
        routes.append(nodes)
    status = getattr(result.status, "value", str(result.status))
    info: dict[str, Any] = {"solver_status": status, "dropped": len(result.dropped)}
    backend = getattr(getattr(result, "metrics", None), "backend", None)
    if backend:
        info["backend"] = backend
    return PeerResult(routes, info)


PEERS: dict[str, Callable[..., PeerResult]] = {
    "jessr": solve_jessr,
    "pyvrp": solve_pyvrp,
    "vroom": solve_vroom,
    "ortools": solve_ortools,
}


def solve_with(
    solver: str,
    instance: Instance,
    time_limit: float,
    seed: int = 0,
    objective: Objective = "hierarchical",
) -> PeerResult:
    """Run one named solver on one instance (raises on crash; the runner catches)."""
    if solver not in PEERS:
        raise ValueError(f"unknown solver {solver!r}; choose from {', '.join(SOLVERS)}")
    if not (time_limit > 0 and math.isfinite(time_limit)):
        raise ValueError(f"time limit must be > 0 seconds, got {time_limit}")
    return PEERS[solver](instance, time_limit, seed, objective)
