"""PyVRP's penalty range restated in the integer model's units.

The integer model counts distance in 1/1000 of the problem's unit. PyVRP's
default penalty ceiling (per unit of excess load) is tuned for unscaled
distances; left as is, on a capacity-tight CVRP with long edges the penalty
for overloading a route stays below what the overload saves, and PyVRP's
best plan is infeasible. These tests pin the scaling and its effect.
"""

from __future__ import annotations

import numpy as np
import pyvrp

from routing import RoutingProblem, Shipment, Vehicle
from routing.backends import BackendCall
from routing.backends.pyvrp_backend import solve_params, solve_pyvrp
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


def test_penalty_range_follows_the_distance_and_load_scales() -> None:
    im = integer_model(tight_cvrp(clients=10))
    params = solve_params(im)
    default = pyvrp.PenaltyParams()
    factor = im.dist_scale / im.load_scale
    assert factor > 1  # distances are scaled, integer loads are not
    assert params.penalty.max_penalty == default.max_penalty * factor
    assert params.penalty.min_penalty == default.min_penalty * factor


def test_pyvrp_alone_returns_capacity_feasible_routes_on_a_tight_cvrp() -> None:
    # With PyVRP's unscaled defaults, 9 of these 33 routes came back overloaded.
    problem = tight_cvrp()
    im = integer_model(problem)
    call = BackendCall(
        active=tuple(range(len(problem.shipments))),
        time_limit=60.0,
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
