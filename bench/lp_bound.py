"""An independent optimum of the allocation LP (HiGHS through scipy).

Shares no code with :mod:`matching`: eligibility from the spec's definitions
with the checker's distance function, one LP over every eligible pair. Used by
the matching benchmark where the LP fits in memory and time.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from engine.checker import request_value
from engine.scenario.model import Scenario
from matching.geo import great_circle_km


def lp_optimum(scenario: Scenario) -> tuple[float, int]:
    """(max allocated value V*, number of eligible pairs), one LP per category.

    Categories share no lot and no request, so the LP separates exactly.
    """
    total, pairs = 0.0, 0
    for category in sorted({r.category for r in scenario.requests}):
        value, n = _category_lp(scenario, category)
        total += value
        pairs += n
    return total, pairs


def _category_lp(scenario: Scenario, category: str) -> tuple[float, int]:
    policy = scenario.policy
    sup = [
        s
        for s in scenario.supplies
        if s.category == category and (s.expires is None or s.expires >= scenario.date)
    ]
    reqs = [r for r in scenario.requests if r.category == category]
    if not sup or not reqs:
        return 0.0, 0
    slat = np.array([s.lat for s in sup])
    slon = np.array([s.lon for s in sup])
    cols_s: list[np.ndarray] = []
    cols_r: list[np.ndarray] = []
    for lo in range(0, len(reqs), 2000):
        block = reqs[lo : lo + 2000]
        rlat = np.array([r.lat for r in block])
        rlon = np.array([r.lon for r in block])
        km = great_circle_km(slat[None, :], slon[None, :], rlat[:, None], rlon[:, None])
        b, s = np.nonzero(km <= policy.max_distance_km)
        keep = np.array(
            [
                sup[k].regions is None or block[q].region in sup[k].regions
                for q, k in zip(b, s, strict=True)
            ],
            dtype=bool,
        )
        cols_s.append(s[keep])
        cols_r.append(lo + b[keep])
    s_idx = np.concatenate(cols_s)
    r_idx = np.concatenate(cols_r)
    n = len(s_idx)
    if n == 0:
        return 0.0, 0
    rows = np.concatenate([s_idx, len(sup) + r_idx])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    a = coo_matrix((np.ones(2 * n), (rows, cols)), shape=(len(sup) + len(reqs), n)).tocsr()
    b = np.array([s.quantity for s in sup] + [r.quantity for r in reqs], dtype=float)
    w = np.array([request_value(scenario, r) for r in reqs])
    res = linprog(-w[r_idx], A_ub=a, b_ub=b, bounds=(0, None), method="highs-ipm")
    if res.status != 0:
        raise RuntimeError(f"LP failed for {category}: {res.message}")
    return -float(res.fun), n
