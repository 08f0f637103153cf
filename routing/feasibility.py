"""Which shipments could some vehicle serve alone, and if not, why.

Serving shipment ``k`` alone on vehicle ``v`` means: home → pickup → delivery
→ home (home → delivery → home for a depot-loaded delivery, whose load is on
board from the start), with the evaluator's semantics. This is vectorised over vehicles and
shipments with numpy (vehicle blocks keep memory at O(block × shipments)), so
a national day (2,000 vehicles × 30,000 shipments) costs well under a second.
It gives drop reasons and lets backends skip shipments nobody can carry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from routing.evaluate import LOAD_EPS
from routing.problem import RoutingProblem, Shipment, Vehicle
from routing.result import DropReason

BLOCK = 64


def alone_feasibility(problem: RoutingProblem) -> tuple[np.ndarray, list[DropReason | None]]:
    """Return ``(feasible, reasons)``.

    ``feasible`` is a (vehicles × shipments) bool matrix: vehicle ``v`` can
    serve shipment ``k`` alone. ``reasons[k]`` is ``None`` if some vehicle
    can, else the :class:`DropReason` why not.
    """
    d = problem.distance
    return alone_feasibility_by(problem, lambda a, b: d[a, b], BLOCK)


class Fleet(Protocol):
    """What the single-vehicle test needs of a problem (matrix or coordinates)."""

    @property
    def vehicles(self) -> tuple[Vehicle, ...]: ...
    @property
    def shipments(self) -> tuple[Shipment, ...]: ...
    @property
    def stop_time(self) -> float: ...


def alone_feasibility_by(
    problem: Fleet,
    dist: Callable[[np.ndarray, np.ndarray], np.ndarray],
    block: int = BLOCK,
) -> tuple[np.ndarray, list[DropReason | None]]:
    """:func:`alone_feasibility` with distances from ``dist(a, b)``.

    ``dist`` takes location-index arrays and broadcasts like numpy (a column
    of starts against a row of pickups gives a block × shipments matrix), so
    a caller without a matrix computes only the block it is asked for.
    """
    ships = problem.shipments
    vehs = problem.vehicles
    m, nv = len(ships), len(vehs)
    feas = np.zeros((nv, m), dtype=bool)
    if m == 0:
        return feas, []
    if nv == 0:
        return feas, [DropReason.UNREACHABLE] * m
    dl = np.array([s.pickup is None for s in ships])  # depot-loaded: start → delivery
    q = np.array([s.delivery for s in ships])
    p = np.array([s.first_location for s in ships])  # depot-loaded: unused placeholder
    load = np.array([s.load for s in ships])
    p_open, p_close = (np.array([s.pickup_window[i] for s in ships]) for i in (0, 1))
    q_open, q_close = (np.array([s.delivery_window[i] for s in ships]) for i in (0, 1))
    p_close = np.where(dl, np.inf, p_close)  # depot-loaded: no pickup window
    p_svc = np.array([s.pickup_service for s in ships]) + problem.stop_time
    q_svc = np.array([s.delivery_service for s in ships]) + problem.stop_time
    pq = dist(p, q)
    window_ok_any = np.zeros(m, dtype=bool)
    cap_ok_any = np.zeros(m, dtype=bool)
    for b in range(0, nv, block):
        blk = vehs[b : b + block]
        start = np.array([v.start for v in blk])[:, None]
        end = np.array([v.end for v in blk])[:, None]
        speed = np.array([v.speed for v in blk])[:, None]
        s0 = np.array([v.shift[0] for v in blk])[:, None]
        s1 = np.array([v.shift[1] for v in blk])[:, None]
        cap = np.array([v.capacity for v in blk])[:, None]
        t_p = np.maximum(s0 + dist(start, p[None, :]) / speed, p_open[None, :])
        t_q = np.maximum(t_p + p_svc[None, :] + pq[None, :] / speed, q_open[None, :])
        if dl.any():
            # Depot-loaded: straight from the start, loaded before leaving.
            t_q_dl = np.maximum(s0 + dist(start, q[None, :]) / speed, q_open[None, :])
            t_q = np.where(dl[None, :], t_q_dl, t_q)
            t_p = np.where(dl[None, :], s0, t_p)
        back = t_q + q_svc[None, :] + dist(q[None, :], end) / speed
        cap_ok = load[None, :] <= cap + LOAD_EPS  # the evaluator's tolerance
        win_ok = (t_p <= p_close[None, :]) & (t_q <= q_close[None, :]) & cap_ok
        feas[b : b + block] = win_ok & (back <= s1)
        window_ok_any |= win_ok.any(axis=0)
        cap_ok_any |= cap_ok.any(axis=0)
    return feas, drop_reasons(feas, (p == q) & ~dl, cap_ok_any, window_ok_any)


def drop_reasons(
    feas: np.ndarray, same_place: np.ndarray, cap_ok_any: np.ndarray, window_ok_any: np.ndarray
) -> list[DropReason | None]:
    """Per shipment, ``None`` if some vehicle can serve it alone, else why not.

    Clears ``feas`` for shipments picked up and delivered at one location
    index: that would be one stop, and a stop unloads before it loads, so it
    can't be both. A caller with a pickup and a delivery at the same place
    gives the delivery its own location 0 km away (``engine.dispatch`` does),
    which makes them two stops.
    """
    feas[:, same_place] = False
    any_feas = feas.any(axis=0)
    reasons: list[DropReason | None] = []
    for k in range(feas.shape[1]):
        if any_feas[k]:
            reasons.append(None)
        elif same_place[k]:
            reasons.append(DropReason.UNREACHABLE)
        elif not cap_ok_any[k]:
            reasons.append(DropReason.TOO_HEAVY)
        elif not window_ok_any[k]:
            reasons.append(DropReason.WINDOW)
        else:
            reasons.append(DropReason.OUTSIDE_SHIFT)
    return reasons
