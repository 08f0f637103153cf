"""Fleet minimisation by absence-weighted prizes (routing.backends.pyvrp_fleet).

Each case has a fleet size known independently of the heuristic: the
capacity bound when loads alone decide, or the number of mutually
incompatible time windows when time decides.
"""

from __future__ import annotations

import numpy as np
import pytest
import pyvrp

from routing.backends import ejection, pyvrp_fleet
from routing.backends.pyvrp_fleet import (
    _absence_after_ejection,
    _optional,
    fleet_bound,
    minimise_fleet,
)
from tests.helpers.pyvrp_models import euclidean, every_task, model, one_route_each, served

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


def _capacity_case() -> tuple[pyvrp.ProblemData, pyvrp.Solution]:
    rng = np.random.default_rng(4)
    xy = rng.integers(0, 100, size=(13, 2))
    clients = [pyvrp.Client(location=i, delivery=[1]) for i in range(1, 13)]
    data = _data(xy, clients, [], capacity=4, fleet=12)
    return data, one_route_each(data)


def test_absence_rounds_follow_the_ejection_search_only_in_a_long_patient_clients_only_run() -> (
    None
):
    data, _ = _capacity_case()
    xy = np.array([[0, 0], [10, 0], [0, 10]])
    paired = _data(xy, [], [pyvrp.Shipment(1, 2, amount=[1])], capacity=2, fleet=1)
    long = ejection.PATIENT_SECONDS
    assert _absence_after_ejection(data, long, patient=True)
    assert not _absence_after_ejection(data, long, patient=False)
    assert not _absence_after_ejection(data, long - 0.1, patient=True)
    assert not _absence_after_ejection(paired, long, patient=True)


@pytest.mark.parametrize("patient", [True, False])
def test_a_patient_search_tries_absence_rounds_where_the_ejection_search_gave_up(
    monkeypatch: pytest.MonkeyPatch, patient: bool
) -> None:
    # PyVRP's penalised attempt and the ejection search both give up at once:
    # only the patient search goes on, by absence rounds, for one target.
    monkeypatch.setattr(pyvrp_fleet, "_penalised", lambda *args, **kwargs: None)
    monkeypatch.setattr(ejection, "minimise_routes", lambda *args, **kwargs: None)
    data, warm = _capacity_case()

    out_data, best = minimise_fleet(
        data, warm, 60.0, 1, PARAMS, max_iterations=20_000, patient=patient
    )

    assert best is not None and best.is_feasible()
    assert served(best) == every_task(data)
    # (the rounds' plan may use fewer routes than the target allows)
    assert best.num_routes() < 12 if patient else best.num_routes() == 12
    assert out_data.vehicle_type(0).num_available == best.num_routes()


def test_absence_rounds_give_up_a_hopeless_target_after_their_stall_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Four clients no vehicle can combine (see above): three routes are
    # impossible. With the iteration stall rule out of the way, only the
    # time stall ends the rounds, long before the budget's 60 s.
    monkeypatch.setattr(pyvrp_fleet, "STALL_ITERATIONS", 10**12)
    xy = np.array([[100, 100], [150, 100], [50, 100], [100, 150], [100, 50]])
    clients = [pyvrp.Client(location=i, delivery=[1], tw_early=50, tw_late=55) for i in range(1, 5)]
    data = _data(xy, clients, [], capacity=10, fleet=3)
    warm = one_route_each(_data(xy, clients, [], capacity=10, fleet=4))
    budget = pyvrp_fleet._Budget(60.0, None)

    found = pyvrp_fleet._absence(data, list(warm.routes())[1:], budget, 1, PARAMS, 0.5)

    assert found is None
    assert budget.left() > 40.0
