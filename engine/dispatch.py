"""Allocations ↔ routing solver: every allocation becomes a shipment.

Units at this boundary: the routing problem works in road km and minutes
after midnight; a volunteer's speed becomes km per minute; a shipment's load
is units × weight_kg and its value the allocation's value (w(r) × units).

Locations: the routing model makes consecutive nodes at one location index a
single stop, and a stop unloads before it loads. So coordinates become one
location *per side*: supplies and volunteer homes share the pickup-side
location of their coordinates, requests the delivery-side one. A lot and a
household at the same coordinates (a geocoder falling back to a town's
centre) are then two locations 0 km apart, and their allocation is routed
as the spec allows: a pickup visit, then a separate delivery visit at the
same coordinates. All pickups at one place still share a visit, and so do all
deliveries; the price is that a route delivering and picking up at one place
makes two visits there (one ``stop_minutes`` more) where the spec would
allow one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.scenario.model import Scenario
from engine.scenario.plan import PlanAllocation, PlanRoute, PlanVisit
from routing import GeoRoutingProblem, Shipment, Vehicle


@dataclass(frozen=True, slots=True)
class DispatchProblem:
    """The routing problem plus what is needed to map its answer back."""

    problem: GeoRoutingProblem
    lat: np.ndarray  # per location
    lon: np.ndarray


def routing_problem(
    scenario: Scenario, allocations: Sequence[PlanAllocation], values: dict[str, float]
) -> DispatchProblem:
    """One shipment per allocation, one vehicle per volunteer.

    ``values`` maps allocation id to its allocated value (what delivering it is worth).
    """
    policy = scenario.policy
    supplies = {s.id: s for s in scenario.supplies}
    requests = {r.id: r for r in scenario.requests}
    index: dict[tuple[float, float, bool], int] = {}

    def loc(lat: float, lon: float, delivery: bool = False) -> int:
        # Keyed by side too: see the module docstring (co-located pairs).
        return index.setdefault((lat, lon, delivery), len(index))

    vehicles = []
    for v in scenario.volunteers:
        home = loc(v.lat, v.lon)
        vehicles.append(
            Vehicle(
                id=v.id,
                start=home,
                end=home,
                capacity=v.capacity_kg,
                shift=(float(v.shift[0]), float(v.shift[1])),
                speed=v.speed_kmh / 60.0,
            )
        )
    shipments = []
    for a in allocations:
        s, r = supplies[a.supply], requests[a.request]
        service = policy.unit_minutes * a.quantity
        shipments.append(
            Shipment(
                id=a.id,
                pickup=loc(s.lat, s.lon),
                delivery=loc(r.lat, r.lon, delivery=True),
                load=a.quantity * scenario.categories[s.category].weight_kg,
                value=values[a.id],
                pickup_service=service,
                delivery_service=service,
                delivery_window=(float(r.window[0]), float(r.window[1])),
            )
        )
    coords = np.array([key[:2] for key in index], dtype=np.float64).reshape(-1, 2)
    # Coordinates, not a matrix: a national day (~36,000 locations) would
    # need ~10 GB dense; routing.solve builds matrices only as large as it
    # can afford (the whole day when small, per region when large).
    problem = GeoRoutingProblem(
        coords[:, 0],
        coords[:, 1],
        policy.road_factor,
        vehicles,
        shipments,
        stop_time=policy.stop_minutes,
    )
    return DispatchProblem(problem, coords[:, 0], coords[:, 1])


def plan_routes(dispatch: DispatchProblem, routes: Sequence) -> tuple[PlanRoute, ...]:
    """Routing routes → plan routes (one visit per stop, coordinates restored)."""
    out = []
    for route in routes:
        visits = tuple(
            PlanVisit(
                lat=float(dispatch.lat[stop.location]),
                lon=float(dispatch.lon[stop.location]),
                arrival=round(stop.arrival),
                pickups=tuple(stop.pickups),
                deliveries=tuple(stop.deliveries),
            )
            for stop in route.stops
        )
        if visits:
            out.append(PlanRoute(route.vehicle, visits, float(route.distance)))
    return tuple(out)
