"""Distance by ruin and recreate at a fixed fleet (routing.backends.ruin).

The kernel's cheapest insertion is held to PyVRP's own evaluation (every
placement, its feasibility and distance); the search to optima found by
enumeration on tiny problems, and to PyVRP's feasibility on random ones.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import pyvrp

from routing.backends import ejection as ej
from routing.backends import ejection_kernel as ekern
from routing.backends import ruin
from routing.backends import ruin_kernel as kern
from tests.helpers.pyvrp_models import (
    CLIENT,
    every_task,
    feasible_placements,
    inserted,
    kernel_route,
    one_route_each,
    random_model,
    random_route,
    served,
)


@pytest.mark.parametrize("seed", range(10))
def test_cheapest_insertion_is_pyvrps_cheapest_feasible_placement(seed: int) -> None:
    data = random_model(seed, n_clients=5, n_ships=5)
    m = ej._model(data)
    assert m is not None
    dist = np.ascontiguousarray(data.distance_matrix(0), dtype=np.int64)
    rng = np.random.default_rng(200 + seed)
    requests = list(range(data.num_clients + data.num_shipments))
    found = 0
    for _ in range(40):
        order = [int(h) for h in rng.permutation(requests)]
        search = random_route(m, order[:-1])
        base = search.routes()[0] if search.rlen[0] > 2 else []
        h = order[-1]
        cost, i, j = kern.cheapest(
            h, search.seq[0], search.S[0], search.Z[0], search.LD[0], search.rlen[0],
            m.loc, m.e, m.late, m.svc, m.dur, dist, m.req_p, m.req_d, m.req_q, m.cap, 0.0,
        )  # fmt: skip
        before = kernel_route(data, base).distance() if base else 0
        p, d = int(m.req_p[h]), int(m.req_d[h])
        deltas = [r.distance() - before for r in feasible_placements(data, base, p, d).values()]
        if not deltas:
            assert cost == ekern.BIG
            continue
        found += 1
        assert cost == min(deltas)
        # After position i / j = before list index i / j.
        route = kernel_route(data, inserted(base, p, d, i if p >= 0 else -1, j))
        assert route.is_feasible() and route.distance() - before == cost
    assert found >= 3


def _cost(sol: pyvrp.Solution) -> int:
    return sol.distance_cost() + sol.fixed_vehicle_cost()


@pytest.mark.parametrize("seed", range(5))
def test_cheaper_plan_every_task_once_no_more_routes(seed: int) -> None:
    data = random_model(seed, n_clients=8, n_ships=10)
    warm = one_route_each(data)
    assert warm.is_feasible()

    sol = ruin.improve(data, warm, 30.0, seed, max_iterations=2_000)

    assert sol is not None and sol.is_feasible()
    assert sol.num_routes() <= warm.num_routes()
    assert _cost(sol) < _cost(warm)
    assert served(sol) == every_task(data)


def _optimum(data: pyvrp.ProblemData, vehicles: int) -> int:
    """Least distance serving every task with at most ``vehicles`` routes, by enumeration."""
    m = ej._model(data)
    assert m is not None
    nreq = data.num_clients + data.num_shipments
    best = None
    memo: dict[tuple[int, ...], int | None] = {}

    def route_best(reqs: tuple[int, ...]) -> int | None:
        if reqs in memo:
            return memo[reqs]
        nodes = [int(m.req_d[h]) for h in reqs] + [int(m.req_p[h]) for h in reqs if m.req_p[h] >= 0]
        shortest = None
        for perm in itertools.permutations(nodes):
            pos = {v: k for k, v in enumerate(perm)}
            if any(m.req_p[h] >= 0 and pos[m.req_p[h]] > pos[m.req_d[h]] for h in reqs):
                continue
            route = kernel_route(data, list(perm))
            if route.is_feasible() and (shortest is None or route.distance() < shortest):
                shortest = route.distance()
        memo[reqs] = shortest
        return shortest

    for owner in itertools.product(range(vehicles), repeat=nreq):
        total = 0
        for v in range(vehicles):
            reqs = tuple(h for h in range(nreq) if owner[h] == v)
            if not reqs:
                continue
            d = route_best(reqs)
            if d is None:
                break
            total += d
        else:
            if best is None or total < best:
                best = total
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(4))
def test_reaches_the_enumerated_optimum_on_tiny_problems(seed: int) -> None:
    data = random_model(50 + seed, n_clients=2, n_ships=2)
    warm = one_route_each(data)  # four routes: at most four in the result too
    assert warm.is_feasible()
    optimum = _optimum(data, vehicles=warm.num_routes())

    sol = ruin.improve(data, warm, 30.0, seed, max_iterations=3_000)

    assert sol is not None and sol.is_feasible()
    assert served(sol) == every_task(data)
    assert sol.distance() == optimum


def test_same_seed_same_plan() -> None:
    data = random_model(3, n_clients=6, n_ships=8)
    warm = one_route_each(data)
    runs = [ruin.improve(data, warm, 30.0, 7, max_iterations=500) for _ in range(2)]
    assert runs[0] is not None and runs[1] is not None
    assert [list(map(str, r)) for r in runs[0].routes()] == [
        list(map(str, r)) for r in runs[1].routes()
    ]


def test_optimal_plan_is_left_alone_and_unsupported_models_declined() -> None:
    data = random_model(1, n_clients=1, n_ships=0)
    one = pyvrp.Solution(data, [pyvrp.Route(data, [pyvrp.Activity(CLIENT, 0)], 0)])
    assert ruin.improve(data, one, 30.0, 0, max_iterations=50) is None  # nothing cheaper
    two_types = data.replace(
        vehicle_types=[pyvrp.VehicleType(1, capacity=[10]), pyvrp.VehicleType(1, capacity=[5])]
    )
    assert ruin.improve(two_types, one, 30.0, 0, max_iterations=50) is None
