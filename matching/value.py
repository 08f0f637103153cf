"""Exact integer request values, and the cost range they must fit.

``w(r) = pw[priority] × (1 + 0.01 × min(age, 30))``. With the weights scaled by
``10^k`` to integers, ``w(r) × 100 × 10^k = pw_int × (100 + age)`` is an exact
integer, so the flow model compares values without any rounding. ``k`` is the
fewest decimals that make every weight whole (weights with more than six
decimals are rounded at the sixth, the only inexact case); the values are then
divided by their greatest common divisor, which changes no comparison.

**The limit.** The flow model (:mod:`matching.flow`) puts value and effort in
one 64-bit cost per arc: ``-BIG × value`` with ``BIG = 2·min(S, R)·max_d + 1``
(``max_d`` the longest eligible distance in cost units, at least 2).
OR-Tools' ``SimpleMinCostFlow`` multiplies every cost by its node count + 1
(``S + R + 1`` of ours plus its own source and sink) and refuses
(``BAD_COST_RANGE``) a cost above ``INT64_MAX / (2 × that)``; its node
potentials must stay above ``INT64_MIN`` plus the largest scaled cost while it
runs. :func:`cost_scale` keeps the largest cost ``POTENTIAL_HEADROOM`` times
inside OR-Tools' bound. Measured (2026-12-07, OR-Tools 9.15, AMD EPYC) on
random one-category days of 5-1,500 lots and 5-3,000 requests with weights of
up to six decimals: at OR-Tools' bound itself 5 of 141 solves still failed at
run time, at half of it none of 228. It coarsens the distance unit (never the
values) until the costs fit, and raises :class:`ValueRangeError` when even the
coarsest unit (every distance 0 or 1 unit, ``BIG = 4·min(S, R) + 1``) does
not: such weights cannot be allocated exactly in 64-bit costs, and the day is
refused before any flow is solved rather than solved wrongly. Should OR-Tools
still refuse the costs while solving, :mod:`matching.flow` raises the same
error: exact, or refused, never a wrong plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

MAX_DECIMALS = 6
MAX_AGE_BONUS = 30  # age days counted, the spec's min(age, 30)
# No two points of the Earth (radius 6371.009 km) are farther apart: a larger
# max_distance_km (1e306 is valid input) is this, for the distance units.
FARTHEST_KM = math.pi * 6371.009 + 1.0
INT64_MAX = 2**63 - 1
# OR-Tools adds a source and a sink to the model and scales costs by its node
# count + 1; it refuses costs above INT64_MAX / (2 × that factor).
ORTOOLS_EXTRA_NODES = 3
# Room left for OR-Tools' node potentials beyond its own static check.
POTENTIAL_HEADROOM = 2


class ValueRangeError(ValueError):
    """Priority weights whose exact values do not fit the flow's 64-bit costs."""


def integer_weights(weights: Mapping[int, float]) -> dict[int, int]:
    """Priority weights scaled by the smallest power of ten that makes them integers."""
    for k in range(MAX_DECIMALS + 1):
        scaled = {p: w * 10**k for p, w in weights.items()}
        if all(abs(v - round(v)) < 1e-9 * max(1.0, abs(v)) for v in scaled.values()):
            return {p: round(v) for p, v in scaled.items()}
    return {p: round(w * 10**MAX_DECIMALS) for p, w in weights.items()}


def scaled_values(
    priorities: NDArray[np.int64], ages: NDArray[np.int64], weights: Mapping[int, float]
) -> NDArray[np.int64]:
    """Exact integer value per unit for each need (ages already clipped to [0, 30]).

    Raises :class:`ValueRangeError` when a value would not fit even the
    smallest flow model (one lot, one request), before any int64 arithmetic
    could wrap.
    """
    whole = integer_weights(weights)
    used = sorted({int(p) for p in np.unique(priorities)}) or sorted(whole)
    common = math.gcd(*(whole[p] for p in used)) or 1
    table = np.zeros(6, dtype=np.int64)
    top = max(whole[p] for p in used) // common * (100 + MAX_AGE_BONUS)
    smallest = max_unit_value(1, 1)  # what any flow holds; also keeps int64 from wrapping
    if top > smallest:
        raise ValueRangeError(_message(weights, top, smallest, "even 1 lot and 1 request"))
    for p in used:
        table[p] = whole[p] // common
    values = table[priorities] * (100 + ages)
    if len(values):
        values //= max(1, int(np.gcd.reduce(values)))
    return values


def max_unit_value(n_lots: int, n_needs: int) -> int:
    """The largest exact value per unit a flow of this size can hold, at the
    coarsest distance unit (``BIG = 4·min(S, R) + 1``)."""
    return _max_cost(n_lots, n_needs) // (4 * min(n_lots, n_needs) + 1)


def cost_scale(
    max_value: int, max_km: float, n_lots: int, n_needs: int, category: str = ""
) -> tuple[int, int]:
    """Distance unit (metres per cost unit) and BIG for one category's flow.

    The finest power-of-ten unit whose costs fit (:data:`POTENTIAL_HEADROOM`
    inside OR-Tools' range); :class:`ValueRangeError` naming the limit when
    none does.
    """
    limit = _max_cost(n_lots, n_needs)
    if max_value > max_unit_value(n_lots, n_needs):
        where = f"{n_lots} lots and {n_needs} requests" + (f" of {category!r}" if category else "")
        raise ValueRangeError(_message(None, max_value, max_unit_value(n_lots, n_needs), where))
    reach_m = min(max_km, FARTHEST_KM) * 1000.0
    unit_m = 1
    while True:
        max_d = math.ceil(reach_m / unit_m) + 1
        big = 2 * min(n_lots, n_needs) * max_d + 1
        if big * max_value <= limit or max_d <= 2:
            return unit_m, big
        unit_m *= 10


def _max_cost(n_lots: int, n_needs: int) -> int:
    """Largest |arc cost| allowed: OR-Tools' bound over the headroom."""
    return max_arc_cost(n_lots + n_needs + 1)


def max_arc_cost(n_nodes: int) -> int:
    """Largest |arc cost| of a flow on ``n_nodes`` nodes: OR-Tools' bound over
    :data:`POTENTIAL_HEADROOM` (every flow of the allocation keeps to it)."""
    return INT64_MAX // (2 * (n_nodes + ORTOOLS_EXTRA_NODES) * POTENTIAL_HEADROOM)


def _message(weights: Mapping[int, float] | None, top: int, limit: int, where: str) -> str:
    given = "" if weights is None else f" {dict(sorted(weights.items()))}"
    return (
        f"priority weights{given} too far apart to allocate exactly: as exact integers "
        f"(scaled to whole numbers by up to {MAX_DECIMALS} decimals, divided by their common "
        f"factor, times 100 + age days) request values reach {top}, but a 64-bit "
        f"min-cost flow over {where} holds at most {limit}; use fewer decimals or weights "
        "closer together"
    )
