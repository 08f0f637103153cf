"""PyVRP's loads restated in the integer model's distance units.

The integer model counts distance in 1/1000 of the problem's unit but
integer loads unscaled. PyVRP's default penalty range (per unit of excess
load) is tuned for natural units; left as is, on a capacity-tight CVRP
with long edges the penalty for overloading a route stays below what the
overload saves, and PyVRP's best plan is infeasible. These tests pin the
scaling and its effect.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from routing import RoutingProblem, Shipment, Vehicle
from routing.backends import BackendCall
from routing.backends.pyvrp_backend import load_factor, solve_pyvrp
from routing.evaluate import check_route
from routing.scaling import integer_model


def tight_cvrp(seed: int = 3, clients: int = 120) -> RoutingProblem:
    """X-like CVRP: coordinates up to 1,000, capacity 20, loads 1–10 (like X-n801)."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 1001, size=(clients + 1, 2)).astype(float)
    loads = rng.integers(1, 11, size=clients)
    fleet = int(loads.sum() // 20) + 12
    horizon = (0.0, 1e7)
    vehicles = tuple(Vehicle(f"v{i}", 0, 0, 20.0, horizon, speed=1.0) for i in range(fleet))
    ships = tuple(
        Shipment(f"c{k}", None, k + 1, float(loads[k]), delivery_window=horizon, required=True)
        for k in range(clients)
    )
    return RoutingProblem.from_euclidean(xy, vehicles, ships, stop_time=0.0)


def test_loads_are_restated_in_the_units_of_distance() -> None:
    # Integer loads (benchmarks): distance is in 1/1000, so loads are x1000.
    im = integer_model(tight_cvrp(clients=10))
    assert im.load_scale == 1 and im.dist_scale == 1000
    assert load_factor(im) == 1000
    # Fractional kg (Jessr days): loads are already in 1/1000 like distance.
    base = tight_cvrp(clients=10)
    ships = tuple(replace(s, load=s.load + 0.5) for s in base.shipments)
    im = integer_model(replace(base, shipments=ships))
    assert im.load_scale == im.dist_scale == 1000
    assert load_factor(im) == 1


def test_pyvrp_alone_returns_capacity_feasible_routes_on_a_tight_cvrp() -> None:
    # With PyVRP's unscaled defaults, 9 of these 33 routes came back overloaded.
    problem = tight_cvrp()
    im = integer_model(problem)
    call = BackendCall(
        active=tuple(range(len(problem.shipments))),
        time_limit=math.inf,  # no clock: bounded by max_iterations alone
        seed=1,
        max_iterations=3000,
        initial=None,
    )
    routes = solve_pyvrp(problem, im, call)
    served = sorted(c >> 1 for nodes in routes.values() for c in nodes)
    assert served == list(range(len(problem.shipments)))
    for v, nodes in routes.items():
        chk = check_route(problem, v, nodes)
        assert chk.feasible, chk.error
