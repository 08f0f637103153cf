"""Small PyVRP models for the compiled kernels' tests (ejection search, ruin and recreate)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pyvrp

from routing.backends import ejection as ej
from routing.backends import ejection_kernel as ekern

CLIENT, PICKUP, DELIVERY = (
    pyvrp.ActivityType.CLIENT,
    pyvrp.ActivityType.PICKUP,
    pyvrp.ActivityType.DELIVERY,
)


def manhattan(xy: np.ndarray) -> np.ndarray:
    # Integer and metric (triangle inequality holds), like PyVRP's own models.
    return np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(np.int64)


def euclidean(xy: np.ndarray) -> np.ndarray:
    # Rounded, so the triangle inequality may fail by a unit (as on real data).
    return np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(int)


def model(
    xy: np.ndarray,
    clients: list[pyvrp.Client],
    shipments: list[pyvrp.Shipment],
    capacity: int,
    fleet: int,
    shift: tuple[int, int] | None = (0, 10**6),
    metric: Callable[[np.ndarray], np.ndarray] = manhattan,
) -> pyvrp.ProblemData:
    """One depot at ``xy[0]``, one vehicle type; ``shift`` None: PyVRP's unbounded default."""
    mat = metric(xy)
    window = {} if shift is None else {"tw_early": shift[0], "tw_late": shift[1]}
    return pyvrp.ProblemData(
        [pyvrp.Location(x=float(x), y=float(y)) for x, y in xy],
        clients,
        [pyvrp.Depot(location=0)],
        [pyvrp.VehicleType(num_available=fleet, capacity=[capacity], **window)],
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


# Kernel-level helpers: a kernel node is ejection._Model's numbering
# (0/1 the depots, then the clients, then pickup/delivery nodes).


def scan_route0(m: ej._Model, search: ej._Search, h: int) -> tuple[int, int, int]:
    """The kernel's feasible insertions of request ``h`` into the search's route 0."""
    return ekern.scan(
        h, search.seq[0], search.S[0], search.Z[0], search.LD[0], search.rlen[0],
        m.loc, m.e, m.late, m.svc, m.dur, m.req_p, m.req_d, m.req_q, m.cap,
    )  # fmt: skip


def random_route(m: ej._Model, requests: list[int]) -> ej._Search:
    """A search holding one feasible route of some of ``requests`` (random feasible insertions)."""
    search = ej._Search(m, [[]])
    for h in requests:
        c, i, j = scan_route0(m, search, h)
        if c:
            row = search.seq[0].copy()
            search.rlen[0] = ekern._place(
                row, search.rlen[0], search.seq[0], m.req_p[h], m.req_d[h], i, j
            )
            assert search._refresh(0)
    return search


def kernel_route(data: pyvrp.ProblemData, nodes: list[int]) -> pyvrp.Route:
    """PyVRP's route of kernel nodes (PyVRP then judges its feasibility and distance)."""
    return pyvrp.Route(data, [ej._activity(v, data.num_clients) for v in nodes], 0)


def placements(n: int, paired: bool) -> list[tuple[int, int]]:
    """Every (pickup index, delivery index) into a route of ``n`` stops; -1: no pickup."""
    positions = range(n + 1)
    if not paired:
        return [(-1, q) for q in positions]
    return [(p, q) for p, q in itertools.product(positions, positions) if p <= q]


def inserted(base: list[int], p: int, d: int, pi: int, pj: int) -> list[int]:
    """``base`` with delivery ``d`` at list index ``pj``, then pickup ``p`` at ``pi`` (if any)."""
    nodes = list(base)
    nodes.insert(pj, d)
    if pi >= 0:
        nodes.insert(pi, p)
    return nodes


def feasible_placements(
    data: pyvrp.ProblemData, base: list[int], p: int, d: int
) -> dict[tuple[int, int], pyvrp.Route]:
    """Brute force: every placement of request (``p``, ``d``) PyVRP finds feasible, by index."""
    out = {}
    for pi, pj in placements(len(base), p >= 0):
        route = kernel_route(data, inserted(base, p, d, pi, pj))
        if route.is_feasible():
            out[pi, pj] = route
    return out
