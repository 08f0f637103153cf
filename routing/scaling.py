"""The one place where float problem data becomes the backends' integers.

Backends (PyVRP, OR-Tools, VROOM) need integer distances, times and loads.
The conversion is conservative, so that *integer-feasible implies
float-feasible* and :mod:`routing.evaluate` (float) accepts what a backend
found in its integer model:

* times (travel, service, stop time) are multiplied by ``time_scale`` and
  rounded UP; window opens and the shift start are rounded UP, window closes
  and the shift end DOWN (windows shrink inward). Integer schedules are then
  never earlier than the float schedule they stand for.
* loads are rounded UP and capacities DOWN (``load_scale`` is 1 when all
  loads and capacities are integers, as in Li & Lim, else 1000).
* distances are rounded to nearest with ``dist_scale``: they only drive the
  objective, never feasibility, and routes are re-measured in float.

Scales are 1000 (Jessr: 0.001 km, 0.001 min) and shrink by powers of ten only
if the largest finite value would not fit in 2^31 (VROOM uses 32-bit values).

Prizes (PyVRP prizes, OR-Tools drop penalties) make delivered value come
first: one unit of value is worth ``prize_per_value`` cost units, chosen so
that the smallest positive value outweighs the largest possible detour of one
shipment (4 × longest edge) plus the largest vehicle fixed cost. Serving a
shipment therefore always pays off against distance; trades between
shipments of different values are priced by value (the lexicographic order
is exact between "more value" and "less km", and proportional among values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from routing.problem import RoutingProblem

BASE_SCALE = 1000
INT32_LIMIT = 2**31 - 1
PRIZE_LIMIT = 2**52  # total prize stays exact in float64 and far from int64 overflow


def _scale_for(max_value: float) -> int:
    scale = BASE_SCALE
    while scale > 1 and max_value * scale > INT32_LIMIT // 4:
        scale //= 10
    return scale


@dataclass(frozen=True)
class IntegerModel:
    """Integer view of a :class:`RoutingProblem` shared by all backends.

    Node arrays have length ``2 * len(shipments)``, indexed by node code
    (``2k`` pickup, ``2k+1`` delivery of shipment ``k``). A depot-loaded
    shipment (``depot_loaded[k]``) has no pickup node: its ``2k`` entries are
    placeholders (delivery location, open window, no service) never routed.
    """

    dist_scale: int
    time_scale: int
    load_scale: int
    dist: np.ndarray  # (n, n) int64 distance between locations
    speed_classes: tuple[float, ...]  # distinct vehicle speeds
    travel: tuple[np.ndarray, ...]  # per speed class (n, n) int64 travel time, ceil
    vehicle_class: tuple[int, ...]  # speed class of each vehicle
    stop: int  # stop time, ceil
    node_loc: np.ndarray  # location of each node
    node_open: np.ndarray  # window open, ceil
    node_close: np.ndarray  # window close, floor (horizon when open-ended)
    node_service: np.ndarray  # service time, ceil
    load: np.ndarray  # per shipment, ceil
    depot_loaded: np.ndarray  # per shipment, bool: on board from the start, no pickup node
    capacity: np.ndarray  # per vehicle, floor
    shift_start: np.ndarray  # per vehicle, ceil
    shift_end: np.ndarray  # per vehicle, floor
    fixed_cost: np.ndarray  # per vehicle, in distance-cost units
    prize: np.ndarray  # per shipment, int64
    horizon: int

    @property
    def num_nodes(self) -> int:
        """Number of pickup and delivery nodes."""
        return int(self.node_loc.shape[0])


def integer_model(problem: RoutingProblem) -> IntegerModel:
    """Convert ``problem`` to integers (see the module docstring)."""
    ships = problem.shipments
    vehs = problem.vehicles
    d = problem.distance
    speeds = tuple(sorted({v.speed for v in vehs})) or (1.0,)
    min_speed = min(speeds)
    finite_times = [v.shift[1] for v in vehs] + [
        w for s in ships for w in (s.pickup_window[1], s.delivery_window[1]) if math.isfinite(w)
    ]
    max_time = max([*finite_times, float(d.max(initial=0.0)) / min_speed, problem.stop_time, 1.0])
    time_scale = _scale_for(max_time)
    dist_scale = _scale_for(float(d.max(initial=0.0)) * 4 + 1.0)
    loads = [s.load for s in ships] + [v.capacity for v in vehs]
    load_scale = 1 if all(float(x).is_integer() for x in loads) else BASE_SCALE

    dist = np.rint(d * dist_scale).astype(np.int64)
    travel = tuple(np.ceil(d / sp * time_scale).astype(np.int64) for sp in speeds)
    vclass = tuple(speeds.index(v.speed) for v in vehs)
    ends = [math.floor(v.shift[1] * time_scale) for v in vehs]
    horizon = max([*ends, 1])

    m = len(ships)
    node_loc = np.empty(2 * m, dtype=np.int64)
    node_open = np.empty(2 * m, dtype=np.int64)
    node_close = np.empty(2 * m, dtype=np.int64)
    node_service = np.empty(2 * m, dtype=np.int64)
    for k, s in enumerate(ships):
        pick = (
            (s.delivery, (0.0, math.inf), 0.0)
            if s.pickup is None
            else (s.pickup, s.pickup_window, s.pickup_service)
        )
        for code, at, win, svc in (
            (2 * k, *pick),
            (2 * k + 1, s.delivery, s.delivery_window, s.delivery_service),
        ):
            node_loc[code] = at
            node_open[code] = math.ceil(win[0] * time_scale)
            node_close[code] = (
                min(math.floor(win[1] * time_scale), horizon) if math.isfinite(win[1]) else horizon
            )
            node_service[code] = math.ceil(svc * time_scale)

    fixed = np.array([round(v.fixed_cost * dist_scale) for v in vehs], dtype=np.int64)
    max_edge = int(dist.max(initial=0))
    big = 4 * max_edge + int(fixed.max(initial=0)) + 1
    values = np.array([s.value for s in ships], dtype=float)
    positive = values[values > 0]
    per_value = big / float(positive.min()) if positive.size else 1.0
    if positive.size and per_value * float(values.sum()) > PRIZE_LIMIT:
        per_value = PRIZE_LIMIT / float(values.sum())  # huge ranges: keep proportional, exact
    prize = np.ceil(values * per_value).astype(np.int64)

    return IntegerModel(
        dist_scale=dist_scale,
        time_scale=time_scale,
        load_scale=load_scale,
        dist=dist,
        speed_classes=speeds,
        travel=travel,
        vehicle_class=vclass,
        stop=math.ceil(problem.stop_time * time_scale),
        node_loc=node_loc,
        node_open=node_open,
        node_close=node_close,
        node_service=node_service,
        load=np.array([math.ceil(s.load * load_scale) for s in ships], dtype=np.int64),
        depot_loaded=np.array([s.pickup is None for s in ships], dtype=bool),
        capacity=np.array([math.floor(v.capacity * load_scale) for v in vehs], dtype=np.int64),
        shift_start=np.array([math.ceil(v.shift[0] * time_scale) for v in vehs], dtype=np.int64),
        shift_end=np.array(ends, dtype=np.int64),
        fixed_cost=fixed,
        prize=prize,
        horizon=horizon,
    )
