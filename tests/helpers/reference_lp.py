"""An independent optimum for allocation problems: two LPs through HiGHS (scipy).

Written from the exchange format's definitions alone (geopy distances, a plain
eligibility loop), sharing no code with the solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from geopy.distance import great_circle
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from matching import MatchingProblem


@dataclass(frozen=True)
class Reference:
    value: float  # max V (LP optimum)
    effort: float  # min E subject to V = max V
    pairs: int


def eligible_pairs(p: MatchingProblem) -> list[tuple[int, int, float]]:
    out = []
    for i, lot in enumerate(p.lots):
        if lot.expires is not None and lot.expires < p.date:
            continue
        for j, need in enumerate(p.needs):
            if lot.category != need.category:
                continue
            if lot.regions is not None and need.region not in lot.regions:
                continue
            km = great_circle((lot.lat, lot.lon), (need.lat, need.lon)).km
            if km <= p.max_distance_km:
                out.append((i, j, km))
    return out


def reference_optimum(p: MatchingProblem) -> Reference:
    pairs = eligible_pairs(p)
    if not pairs:
        return Reference(0.0, 0.0, 0)
    n_lots = len(p.lots)
    rows, cols = [], []
    for k, (i, j, _) in enumerate(pairs):
        rows += [i, n_lots + j]
        cols += [k, k]
    a = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_lots + len(p.needs), len(pairs)))
    b = np.array([x.quantity for x in p.lots] + [x.quantity for x in p.needs], dtype=float)
    value = np.array([p.value_per_unit(p.needs[j]) for _, j, _ in pairs])
    first = linprog(-value, A_ub=a, b_ub=b, method="highs")
    assert first.status == 0
    v_star = -first.fun
    effort = np.array([km * p.weight_kg[p.lots[i].category] for i, _, km in pairs])
    # Second stage: least effort among plans worth (numerically) at least V*.
    second = linprog(
        effort,
        A_ub=np.vstack([a.toarray(), -value[None, :]]),
        b_ub=np.r_[b, -v_star * (1 - 1e-9)],
        method="highs",
    )
    assert second.status == 0
    return Reference(v_star, second.fun, len(pairs))
