"""Small PyVRP models for the compiled kernels' tests (ejection search, ruin and recreate)."""

from __future__ import annotations

import numpy as np
import pyvrp

CLIENT, PICKUP, DELIVERY = (
    pyvrp.ActivityType.CLIENT,
    pyvrp.ActivityType.PICKUP,
    pyvrp.ActivityType.DELIVERY,
)


def manhattan(xy: np.ndarray) -> np.ndarray:
    # Integer and metric (triangle inequality holds), like PyVRP's own models.
    return np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(np.int64)


def model(
    xy: np.ndarray,
    clients: list[pyvrp.Client],
    shipments: list[pyvrp.Shipment],
    capacity: int,
    fleet: int,
    shift: tuple[int, int] = (0, 10**6),
) -> pyvrp.ProblemData:
    mat = manhattan(xy)
    return pyvrp.ProblemData(
        [pyvrp.Location(x=float(x), y=float(y)) for x, y in xy],
        clients,
        [pyvrp.Depot(location=0)],
        [
            pyvrp.VehicleType(
                num_available=fleet, capacity=[capacity], tw_early=shift[0], tw_late=shift[1]
            )
        ],
        [mat],
        [mat],
        [],
        shipments,
    )


def random_model(seed: int, n_clients: int, n_ships: int, capacity: int = 10) -> pyvrp.ProblemData:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 60, size=(1 + n_clients + 2 * n_ships, 2))
    horizon = 600

    def window() -> tuple[int, int]:
        a = int(rng.integers(0, horizon - 150))
        return a, a + int(rng.integers(60, 250))

    clients = []
    for i in range(n_clients):
        a, b = window()
        clients.append(
            pyvrp.Client(
                location=1 + i,
                delivery=[int(rng.integers(1, 5))],
                service_duration=int(rng.integers(0, 10)),
                tw_early=a,
                tw_late=b,
            )
        )
    ships = []
    for s in range(n_ships):
        (a1, b1), (a2, b2) = sorted([window(), window()])
        ships.append(
            pyvrp.Shipment(
                1 + n_clients + 2 * s,
                2 + n_clients + 2 * s,
                a1,
                b1,
                int(rng.integers(0, 10)),
                a2,
                b2 + 100,
                int(rng.integers(0, 10)),
                amount=[int(rng.integers(1, 5))],
            )
        )
    return model(xy, clients, ships, capacity, n_clients + n_ships, shift=(0, horizon + 400))


def one_route_each(data: pyvrp.ProblemData) -> pyvrp.Solution:
    routes = [pyvrp.Route(data, [pyvrp.Activity(CLIENT, i)], 0) for i in range(data.num_clients)]
    for s in range(data.num_shipments):
        routes.append(
            pyvrp.Route(data, [pyvrp.Activity(PICKUP, s), pyvrp.Activity(DELIVERY, s)], 0)
        )
    return pyvrp.Solution(data, routes)


def served(sol: pyvrp.Solution) -> list[tuple[int, int]]:
    return sorted((int(a.type), a.idx) for r in sol.routes() for a in r if not a.is_depot())


def every_task(data: pyvrp.ProblemData) -> list[tuple[int, int]]:
    tasks = [(int(CLIENT), i) for i in range(data.num_clients)]
    tasks += [(int(t), s) for s in range(data.num_shipments) for t in (PICKUP, DELIVERY)]
    return sorted(tasks)
