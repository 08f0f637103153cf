"""The benchmark runner's own solution checker: it trusts no solver.

A solution is a list of routes, each a list of the instance's own node numbers with the
depot (node 0) left out; every route starts and ends at the depot. The checker re-derives
everything from the instance: coverage, pairing and precedence, capacity, time windows
and fleet size, and it computes the distance in the family's convention (exact double
Euclidean for Li & Lim / Solomon, ``nint`` for X), so all solvers are scored alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from bench.instances import Instance, distance_matrix

# Tolerance on time comparisons: arrival times are sums of irrational square roots, and the
# BKS files are known feasible in exact arithmetic; 1e-6 absorbs float summation order only.
TIME_EPS = 1e-6
# Violations listed per check are capped so a garbage solution gives a readable report.
MAX_VIOLATIONS = 50


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of :func:`check_solution`. ``distance`` is computed even when infeasible."""

    feasible: bool
    distance: float
    vehicles: int
    violations: tuple[str, ...] = field(default_factory=tuple)

    def __iter__(self):  # allows ``feasible, distance, vehicles, violations = check(...)``
        return iter((self.feasible, self.distance, self.vehicles, list(self.violations)))


def check_solution(instance: Instance, routes: Sequence[Sequence[int]]) -> CheckResult:
    """Check ``routes`` against ``instance``; returns feasibility, distance, vehicles, violations.

    Empty routes are ignored (an unused vehicle). Service must start inside
    ``[ready, due]``; arriving early means waiting; travel time equals distance; each route
    must be back at the depot by the depot's due time. Loads: Li & Lim runs the signed
    demand (pickup +q, delivery −q) and it must stay in ``[0, Q]``; Solomon and X carry the
    route's whole demand from the depot, so the route total must be ``≤ Q``.
    """
    dist = distance_matrix(instance)
    n = instance.n_nodes
    violations: list[str] = []

    def flag(msg: str) -> None:
        if len(violations) < MAX_VIOLATIONS:
            violations.append(msg)

    used = [list(r) for r in routes if len(r) > 0]
    total = 0.0
    seen: dict[int, tuple[int, int]] = {}  # node -> (route index, position)

    for ri, route in enumerate(used):
        for pos, node in enumerate(route):
            if not isinstance(node, int) or isinstance(node, bool) or not 0 < node < n:
                flag(f"route {ri}: invalid node {node!r} (customers are 1..{n - 1})")
                continue
            if node in seen:
                flag(f"node {node} visited more than once (routes {seen[node][0]} and {ri})")
            else:
                seen[node] = (ri, pos)
        valid = [v for v in route if isinstance(v, int) and 0 < v < n]
        path = [0, *valid, 0]
        total += float(sum(dist[a, b] for a, b in pairwise(path)))
        _check_load(instance, ri, valid, flag)
        if instance.windows is not None:
            _check_times(instance, ri, valid, flag)

    missing = [v for v in instance.customers if v not in seen]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        flag(f"{len(missing)} node(s) not visited: {shown}")

    for p, d in instance.pairs:
        if p in seen and d in seen:
            (rp, pp), (rd, pd) = seen[p], seen[d]
            if rp != rd:
                flag(f"pair ({p}, {d}): pickup on route {rp}, delivery on route {rd}")
            elif pp > pd:
                flag(f"pair ({p}, {d}): delivery before pickup on route {rp}")

    if instance.max_vehicles is not None and len(used) > instance.max_vehicles:
        flag(f"{len(used)} vehicles used, {instance.max_vehicles} available")

    return CheckResult(
        feasible=not violations,
        distance=total,
        vehicles=len(used),
        violations=tuple(violations),
    )


def _check_load(instance: Instance, ri: int, route: list[int], flag) -> None:
    q = instance.capacity
    if instance.pairs:
        load = 0
        for node in route:
            load += instance.demands[node]
            if load > q:
                flag(f"route {ri}: load {load} > capacity {q} after node {node}")
                return
            if load < 0:
                flag(f"route {ri}: negative load {load} after node {node}")
                return
    else:
        total = sum(instance.demands[v] for v in route)
        if total > q:
            flag(f"route {ri}: demand {total} > capacity {q}")


def _check_times(instance: Instance, ri: int, route: list[int], flag) -> None:
    assert instance.windows is not None
    dist = distance_matrix(instance)
    windows, service = instance.windows, instance.service
    depot_ready, depot_due = windows[0]
    t = depot_ready  # leave the depot as early as it opens; waiting is free
    prev = 0
    for node in route:
        arrive = t + float(dist[prev, node])
        ready, due = windows[node]
        start = max(arrive, ready)
        if start > due + TIME_EPS:
            flag(f"route {ri}: node {node} served at {start:.4f} > due {due:g}")
        t = start + service[node]
        prev = node
    back = t + float(dist[prev, 0])
    if back > depot_due + TIME_EPS:
        flag(f"route {ri}: returns to depot at {back:.4f} > depot due {depot_due:g}")
