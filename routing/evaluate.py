"""Independent float evaluator of routes: the single source of truth.

Every backend works on a rounded integer model (see :mod:`routing.scaling`);
whatever it returns is re-checked here, in float arithmetic, with exactly the
semantics of the Jessr plan checker (exchange format, rules 3-5):

* the route leaves ``vehicle.start`` at ``shift[0]`` and must be back at
  ``vehicle.end`` by ``shift[1]``; the legs from and to home count;
* consecutive nodes at the same location form ONE stop, whose service time is
  ``stop_time`` + the service of each node in it;
* the stop's service start is the arrival, delayed (waiting) until the latest
  window opening of its nodes; every node's window must contain it;
* at a stop, deliveries are unloaded before pickups are loaded, and the load
  never exceeds the capacity; a shipment is picked up before it is delivered,
  on the same route, in different stops;
* a depot-loaded delivery (``Shipment.pickup is None``) is on board from the
  start: the route leaves with the sum of their loads, which must fit the
  capacity, and has no pickup node or stop for them.

A route is a sequence of *node codes*: ``2*k`` is the pickup of shipment ``k``
(its position in ``problem.shipments``), ``2*k + 1`` its delivery; a
depot-loaded shipment appears only as its delivery code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from routing.problem import RoutingProblem
from routing.result import Route, Stop

# Absolute, in load units (Jessr: kg), the plan checker's tolerance. Loads are
# summed in a canonical order (a stop's deliveries, then its pickups, each by
# node code) that plan visits list in turn, so the checker adds the same floats
# in the same order; a relative tolerance would accept, on a large capacity,
# loads the checker rejects.
LOAD_EPS = 1e-9
TIME_EPS = 0.0  # times: no tolerance, backends keep integer slack (ceil/inward rounding)


def pickup(k: int) -> int:
    """Node code of shipment ``k``'s pickup."""
    return 2 * k


def delivery(k: int) -> int:
    """Node code of shipment ``k``'s delivery."""
    return 2 * k + 1


@dataclass(frozen=True)
class RouteCheck:
    """Outcome of :func:`check_route`.

    ``culprit`` is a shipment index to drop to make progress when the route
    is invalid (the first shipment involved in the first violation).
    """

    feasible: bool
    error: str | None
    culprit: int | None
    distance: float
    duration: float
    stops: tuple[Stop, ...]
    start_load: float = 0.0  # depot-loaded deliveries on board when leaving


def _fail(msg: str, k: int) -> RouteCheck:
    return RouteCheck(False, msg, k, 0.0, 0.0, ())


def node_location(problem: RoutingProblem, code: int) -> int:
    """Location of node ``code`` (a depot-loaded shipment has no pickup node)."""
    s = problem.shipments[code >> 1]
    if code & 1:
        return s.delivery
    if s.pickup is None:
        raise ValueError(f"depot-loaded shipment {s.id!r} has no pickup node")
    return s.pickup


def check_route(problem: RoutingProblem, vehicle: int, nodes: Sequence[int]) -> RouteCheck:
    """Schedule ``nodes`` on vehicle number ``vehicle`` and check every rule."""
    veh = problem.vehicles[vehicle]
    ships = problem.shipments
    dist = problem.distance
    # Pairing: each shipment of the route exactly once picked up (unless it is
    # depot-loaded) and delivered.
    seen: dict[int, int] = {}
    for code in nodes:
        k = code >> 1
        seen[k] = seen.get(k, 0) + (10 if code & 1 else 1)
    start_load = 0.0
    on_board: set[int] = set()
    for k, tally in seen.items():
        if ships[k].pickup is None:
            if tally != 10:
                return _fail(f"depot-loaded shipment {ships[k].id!r} not delivered once", k)
            on_board.add(k)
            start_load += ships[k].load
        elif tally != 11:
            return _fail(f"shipment {ships[k].id!r} not paired once on the route", k)
    cap_tol = LOAD_EPS
    if start_load > veh.capacity + cap_tol:
        heaviest = max(on_board, key=lambda k: (ships[k].load, k))
        return _fail(f"start load {start_load:.6g} exceeds capacity {veh.capacity:.6g}", heaviest)

    t = veh.shift[0]
    loc = veh.start
    total = 0.0
    load = start_load
    done: set[int] = set()
    stops: list[Stop] = []
    i = 0
    n = len(nodes)
    while i < n:
        here = node_location(problem, nodes[i])
        j = i
        group: list[int] = []
        while j < n and node_location(problem, nodes[j]) == here:
            group.append(nodes[j])
            j += 1
        leg = float(dist[loc, here])
        total += leg
        t += leg / veh.speed
        opens = [
            ships[c >> 1].delivery_window[0] if c & 1 else ships[c >> 1].pickup_window[0]
            for c in group
        ]
        start = max(t, *opens)
        service = problem.stop_time
        for c in group:
            s = ships[c >> 1]
            window = s.delivery_window if c & 1 else s.pickup_window
            if start > window[1] + TIME_EPS:
                kind = "delivery" if c & 1 else "pickup"
                return _fail(
                    f"{kind} of {s.id!r} starts at {start:.6g} after its window {window}", c >> 1
                )
            service += s.delivery_service if c & 1 else s.pickup_service
        # Sorted: the order of nodes within one stop changes nothing, and a
        # canonical order makes equal plans compare equal (reproducible runs).
        dels = sorted(c for c in group if c & 1)
        picks = sorted(c for c in group if not c & 1)
        for c in dels:
            k = c >> 1
            if k not in on_board:
                return _fail(f"shipment {ships[k].id!r} delivered before its pickup stop", k)
            on_board.discard(k)
            done.add(k)
            load -= ships[k].load
        for c in picks:
            k = c >> 1
            if k in done or k in on_board:
                return _fail(f"shipment {ships[k].id!r} picked up twice", k)
            on_board.add(k)
            load += ships[k].load
            if load > veh.capacity + cap_tol:
                return _fail(f"load {load:.6g} exceeds capacity {veh.capacity:.6g}", k)
        stops.append(
            Stop(
                location=here,
                arrival=start,
                pickups=tuple(ships[c >> 1].id for c in picks),
                deliveries=tuple(ships[c >> 1].id for c in dels),
                load_after=max(load, 0.0),
            )
        )
        t = start + service
        loc = here
        i = j
    leg = float(dist[loc, veh.end])
    total += leg
    t += leg / veh.speed
    if nodes and t > veh.shift[1] + TIME_EPS:
        k = nodes[-1] >> 1
        return _fail(f"back home at {t:.6g} after shift end {veh.shift[1]:.6g}", k)
    if not nodes:
        return RouteCheck(True, None, None, 0.0, 0.0, ())
    return RouteCheck(True, None, None, total, t - veh.shift[0], tuple(stops), start_load)


def to_route(problem: RoutingProblem, vehicle: int, nodes: Sequence[int]) -> Route:
    """The :class:`Route` of a valid node sequence (raises if invalid)."""
    chk = check_route(problem, vehicle, nodes)
    if not chk.feasible:
        raise ValueError(f"invalid route for {problem.vehicles[vehicle].id!r}: {chk.error}")
    return Route(
        problem.vehicles[vehicle].id, chk.stops, chk.distance, chk.duration, chk.start_load
    )


def verify_route(problem: RoutingProblem, route: Route) -> str | None:
    """Re-check a finished :class:`Route` from its stops; ``None`` when valid.

    This reads only the public result (vehicle id, stop locations, shipment
    ids), so tests can use it as an independent checker of solver output.
    """
    vidx = {v.id: i for i, v in enumerate(problem.vehicles)}
    if route.vehicle not in vidx:
        return f"unknown vehicle {route.vehicle!r}"
    nodes: list[int] = []
    for stop in route.stops:
        for sid in stop.deliveries:
            k = problem.shipment_index(sid)
            if problem.shipments[k].delivery != stop.location:
                return f"delivery of {sid!r} at the wrong location"
            nodes.append(delivery(k))
        for sid in stop.pickups:
            k = problem.shipment_index(sid)
            if problem.shipments[k].pickup is None:
                return f"depot-loaded {sid!r} listed as a pickup"
            if problem.shipments[k].pickup != stop.location:
                return f"pickup of {sid!r} at the wrong location"
            nodes.append(pickup(k))
    chk = check_route(problem, vidx[route.vehicle], nodes)
    if not chk.feasible:
        return chk.error
    if len(chk.stops) != len(route.stops):
        return "two listed stops at the same location in a row"
    return None
