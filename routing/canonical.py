"""Canonical form of routes among equal-cost alternatives (reproducible runs).

VROOM is deterministic in cost but not in which of several equal-cost
solutions it returns: with one thread and no timeout, the same input gave a
route or its mirror image from run to run, and from solve to solve within
one process (a 12-request day around Tunis on a street grid, 2026-12-07:
the same VROOM input, solved 20 times in one process, gave each about a third
of the time, also with address-space randomisation off; its tie-breaking
depends on something outside its input). Iteration mode promises identical
plans, so VROOM's routes are mapped to one representative of their tie:

* within a route, a segment is reversed when that leaves the route's integer
  cost (what VROOM minimises, :class:`routing.scaling.IntegerModel`) equal,
  makes the node sequence lexicographically smaller and the route stays valid
  (:func:`routing.evaluate.check_route`); repeated until no reversal applies;
* routes of interchangeable vehicles (same homes, capacity, shift, speed and
  fixed cost) go to those vehicles in index order, smallest sequence first.

This covers mirror routes and swapped identical vehicles, the ties seen; a
tie reached by moving shipments between routes is not canonicalised.
"""

from __future__ import annotations

from routing.backends import Routes
from routing.evaluate import check_route, node_location
from routing.problem import RoutingProblem
from routing.scaling import IntegerModel


def canonical_routes(problem: RoutingProblem, im: IntegerModel, routes: Routes) -> Routes:
    """``routes`` with equal-cost alternatives mapped to one representative.

    A pure function of its arguments: two routings that differ only by a
    mirrored segment of equal cost, or by which of two interchangeable
    vehicles drives a route, come out identical. Routes' costs, the shipments
    they serve and their validity are unchanged.
    """
    seqs = {v: _canonical_sequence(problem, im, v, list(nodes)) for v, nodes in routes.items()}
    groups: dict[tuple[object, ...], list[int]] = {}
    for v, veh in enumerate(problem.vehicles):
        key = (veh.start, veh.end, veh.capacity, veh.shift, veh.speed, veh.fixed_cost)
        groups.setdefault(key, []).append(v)
    out: Routes = {}
    for members in groups.values():
        used = sorted(seqs[v] for v in members if seqs.get(v))
        for v, nodes in zip(members, used, strict=False):
            out[v] = nodes
    return out


def _canonical_sequence(
    problem: RoutingProblem, im: IntegerModel, vehicle: int, nodes: list[int]
) -> list[int]:
    """The lexicographically smallest sequence reached by equal-cost reversals."""
    if len(nodes) < 2 or not check_route(problem, vehicle, nodes).feasible:
        return nodes
    veh = problem.vehicles[vehicle]
    while True:
        path = [veh.start, *(node_location(problem, c) for c in nodes), veh.end]
        fwd = [0]  # fwd[p]: integer cost from path[0] to path[p]
        bwd = [0]  # bwd[p]: the same legs driven backwards
        for p in range(len(path) - 1):
            fwd.append(fwd[-1] + int(im.dist[path[p], path[p + 1]]))
            bwd.append(bwd[-1] + int(im.dist[path[p + 1], path[p]]))
        moved = False
        for i in range(len(nodes) - 1):
            a = i + 1  # path index of nodes[i]
            for j in range(i + 1, len(nodes)):
                c = j + 1
                old = int(im.dist[path[a - 1], path[a]]) + fwd[c] - fwd[a]
                old += int(im.dist[path[c], path[c + 1]])
                new = int(im.dist[path[a - 1], path[c]]) + bwd[c] - bwd[a]
                new += int(im.dist[path[a], path[c + 1]])
                if new != old:
                    continue
                cand = nodes[:i] + nodes[i : j + 1][::-1] + nodes[j + 1 :]
                if cand < nodes and check_route(problem, vehicle, cand).feasible:
                    nodes, moved = cand, True
                    break
            if moved:
                break
        if not moved:
            return nodes
