"""Fleet minimisation by absence-weighted prizes (routing.backends.pyvrp_fleet).

Each case has a fleet size known independently of the heuristic: the
capacity bound when loads alone decide, or the number of mutually
incompatible time windows when time decides.
"""

from __future__ import annotations

import numpy as np
import pyvrp

from routing.backends.pyvrp_fleet import _optional, fleet_bound, minimise_fleet
from tests.routing.pyvrp_models import euclidean, every_task, model, one_route_each, served

PARAMS = pyvrp.SolveParams()


def _data(
    xy: np.ndarray,
    clients: list[pyvrp.Client],
    shipments: list[pyvrp.Shipment],
    capacity: int,
    fleet: int,
) -> pyvrp.ProblemData:
    return model(xy, clients, shipments, capacity, fleet, shift=None, metric=euclidean)


def test_capacity_decides_the_fleet_reaches_the_capacity_bound() -> None:
    rng = np.random.default_rng(4)
    xy = rng.integers(0, 100, size=(13, 2))
    clients = [pyvrp.Client(location=i, delivery=[1]) for i in range(1, 13)]
    data = _data(xy, clients, [], capacity=4, fleet=12)
    assert fleet_bound(data) == 3  # 12 units, 4 per vehicle
    warm = one_route_each(data)
    assert warm.num_routes() == 12

    out_data, best = minimise_fleet(data, warm, 60.0, 1, PARAMS, max_iterations=20_000)

    assert best is not None and best.is_feasible()
    assert best.num_routes() == 3
    assert out_data.vehicle_type(0).num_available == 3
    assert served(best) == every_task(data)


def test_paired_shipments_share_routes_when_capacity_allows() -> None:
    rng = np.random.default_rng(5)
    xy = rng.integers(0, 100, size=(17, 2))
    ships = [pyvrp.Shipment(2 * i + 1, 2 * i + 2, amount=[1]) for i in range(8)]
    data = _data(xy, [], ships, capacity=2, fleet=8)
    warm = one_route_each(data)

    _, best = minimise_fleet(data, warm, 60.0, 1, PARAMS, max_iterations=20_000)

    # Capacity 2 lets several pairs ride one route in sequence; one route suffices.
    assert best is not None and best.is_feasible()
    assert best.num_routes() == 1
    assert served(best) == every_task(data)


def test_incompatible_windows_keep_the_fleet_and_every_client() -> None:
    # Four clients 50 away from the depot in four directions, all due at the
    # same instant: no vehicle can serve two of them, so four routes is optimal.
    xy = np.array([[100, 100], [150, 100], [50, 100], [100, 150], [100, 50]])
    clients = [pyvrp.Client(location=i, delivery=[1], tw_early=50, tw_late=55) for i in range(1, 5)]
    data = _data(xy, clients, [], capacity=10, fleet=4)
    warm = one_route_each(data)
    assert warm.is_feasible()

    out_data, best = minimise_fleet(data, warm, 60.0, 1, PARAMS, max_iterations=5_000)

    assert best is not None and best.is_feasible()
    assert best.num_routes() == 4
    assert out_data.vehicle_type(0).num_available == 4
    assert served(best) == every_task(data)


def test_without_a_feasible_warm_start_nothing_changes() -> None:
    xy = np.array([[0, 0], [10, 0], [0, 10]])
    clients = [pyvrp.Client(location=i, delivery=[1]) for i in (1, 2)]
    data = _data(xy, clients, [], capacity=1, fleet=2)

    out_data, best = minimise_fleet(data, None, 60.0, 1, PARAMS, max_iterations=100)

    assert best is None and out_data is data


def test_optional_copies_everything_but_prize_and_required() -> None:
    xy = np.array([[0, 0], [10, 0], [0, 10], [5, 5]])
    client = pyvrp.Client(
        location=1, delivery=[3], pickup=[1], service_duration=7, tw_early=2, tw_late=90
    )
    ship = pyvrp.Shipment(2, 3, 1, 40, 4, 5, 60, 6, amount=[2], prize=0, required=True, name="pair")
    data = _data(xy, [client], [ship], capacity=10, fleet=1)

    opt = _optional(data, np.array([123]), np.array([456]))

    c, s = opt.client(0), opt.shipment(0)
    assert (c.prize, c.required, s.prize, s.required) == (123, False, 456, False)
    assert (c.location, c.delivery, c.pickup, c.service_duration) == (1, [3], [1], 7)
    assert (c.tw_early, c.tw_late) == (2, 90)
    assert (s.pickup.location, s.pickup.tw_early, s.pickup.tw_late) == (2, 1, 40)
    assert (s.pickup.service_duration, s.delivery.location, s.delivery.tw_early) == (4, 3, 5)
    assert (s.delivery.tw_late, s.delivery.service_duration, s.amount, s.name) == (
        60,
        6,
        [2],
        "pair",
    )
