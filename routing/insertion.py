"""Greedy cheapest insertion checked by the float evaluator.

Used three ways: as the simple baseline a backend must beat, to put back
shipments dropped while repairing a backend's routes, and to insert shipments
left over by decomposition into other parts' routes and unused vehicles.

Each insertion ranks all (vehicle, pickup position, delivery position)
candidates (delivery position only for a depot-loaded delivery, whose load
rides from the start) by their exact distance increase (O(1) each, numpy) and runs the
evaluator only in that order until one is valid, so the first valid one is
the cheapest; a cap on checks keeps each insertion bounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from routing.evaluate import check_route
from routing.problem import RoutingProblem

MAX_CHECKS = 400  # evaluator calls per shipment before giving up on it
NEAREST_USED = 12  # used routes considered per shipment (nearest first)
NEAREST_IDLE = 4  # idle vehicles considered per shipment (nearest homes)


def _loc(problem: RoutingProblem, code: int) -> int:
    s = problem.shipments[code >> 1]
    return s.delivery if code & 1 or s.pickup is None else s.pickup


def insert_greedy(
    problem: RoutingProblem,
    routes: dict[int, list[int]],
    shipments: Iterable[int],
    feasible: np.ndarray,
    deadline: float = float("inf"),
    max_checks: int | None = None,
    tally: list[int] | None = None,
) -> set[int]:
    """Insert ``shipments`` (indices, tried in the given order) into ``routes``.

    ``routes`` maps vehicle index → node codes and is updated in place;
    ``feasible`` is the (vehicle × shipment) alone-feasibility matrix. Returns
    the shipments inserted. It stops at ``deadline`` or, when set, after
    ``max_checks`` evaluator calls in all (a bound on work that, unlike the
    deadline, gives the same routes on any machine). ``tally``, when given,
    gets the number of evaluator calls made appended: the same shipments
    with that many ``max_checks`` and no deadline give the same routes (a
    replay, :mod:`routing.record`).
    """
    checks = 0
    d = problem.distance
    vehs = problem.vehicles
    inserted: set[int] = set()
    for k in shipments:
        if time.monotonic() > deadline or (max_checks is not None and checks >= max_checks):
            break
        s = problem.shipments[k]
        first = s.first_location
        cand_v = np.flatnonzero(feasible[:, k])
        if cand_v.size == 0:
            continue
        used = [v for v in cand_v if routes.get(int(v))]
        idle = [v for v in cand_v if not routes.get(int(v))]
        if len(used) > NEAREST_USED:
            near = [min(d[_loc(problem, c), first] for c in routes[int(v)]) for v in used]
            used = [used[i] for i in np.argsort(near, kind="stable")[:NEAREST_USED]]
        if len(idle) > NEAREST_IDLE:
            near = [d[vehs[v].start, first] for v in idle]
            idle = [idle[i] for i in np.argsort(near, kind="stable")[:NEAREST_IDLE]]
        options: list[tuple[float, int, int, int]] = []
        for v in [*used, *idle]:
            v = int(v)
            r = routes.get(v, [])
            locs = np.array([vehs[v].start, *(_loc(problem, c) for c in r), vehs[v].end])
            a, b = locs[:-1], locs[1:]
            base = d[a, b]
            # Pickup alone between a[i] and b[i]; delivery alone between a[j] and b[j].
            ins_q = d[a, s.delivery] + d[s.delivery, b] - base
            fixed = vehs[v].fixed_cost if not r else 0.0
            n = len(a)
            if s.pickup is None:
                # Depot-loaded: the delivery alone, anywhere (i == -1 marks it).
                options.extend((float(ins_q[j]) + fixed, v, -1, j) for j in range(n))
                continue
            ins_p = d[a, s.pickup] + d[s.pickup, b] - base
            for i in range(n):
                # adjacent: a[i] -> p -> q -> b[i]
                adj = d[a[i], s.pickup] + d[s.pickup, s.delivery] + d[s.delivery, b[i]] - base[i]
                options.append((float(adj) + fixed, v, i, i))
                for j in range(i + 1, n):
                    options.append((float(ins_p[i] + ins_q[j]) + fixed, v, i, j))
        options.sort()
        limit = MAX_CHECKS if max_checks is None else min(MAX_CHECKS, max_checks - checks)
        for delta, v, i, j in options[:limit]:
            del delta
            checks += 1
            r = routes.get(v, [])
            if i < 0:
                new = [*r[:j], 2 * k + 1, *r[j:]]
            else:
                new = [*r[:i], 2 * k, *r[i:j], 2 * k + 1, *r[j:]]
            if check_route(problem, v, new).feasible:
                routes[v] = new
                inserted.add(k)
                break
    if tally is not None:
        tally.append(checks)
    return inserted


def insertion_order(problem: RoutingProblem, shipments: Iterable[int]) -> list[int]:
    """Most valuable first (required before optional), then tightest window."""
    ships = problem.shipments
    return sorted(
        shipments,
        key=lambda k: (
            not ships[k].required,
            -ships[k].value,
            ships[k].delivery_window[1] - ships[k].delivery_window[0],
            k,
        ),
    )
