"""The coordinators' hand method, as a baseline: by priority, nearest supply first.

Requests are served most urgent first (then longest waiting, then id); each
takes from its eligible lots in order of distance until it is served or no
eligible lot has stock left. Same eligibility rules as the exchange format.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from engine.checker import request_value
from engine.scenario.model import Scenario
from matching.geo import chord_for_km, great_circle_km, unit_vectors

NEAREST = 32


@dataclass(frozen=True, slots=True)
class GreedyResult:
    allocated_value: float
    effort_kg_km: float
    allocations: int


def greedy_allocation(scenario: Scenario) -> GreedyResult:
    """Allocate greedily; returns V and E computed as the spec defines them."""
    policy = scenario.policy
    live = [s for s in scenario.supplies if s.expires is None or s.expires >= scenario.date]
    value = effort = 0.0
    count = 0
    for category in sorted({r.category for r in scenario.requests}):
        lots = [s for s in live if s.category == category]
        reqs = [r for r in scenario.requests if r.category == category]
        if not lots or not reqs:
            continue
        weight = scenario.categories[category].weight_kg
        stock = np.array([s.quantity for s in lots], dtype=np.int64)
        lat = np.array([s.lat for s in lots])
        lon = np.array([s.lon for s in lots])
        tree = cKDTree(unit_vectors(lat, lon))
        radius = chord_for_km(policy.max_distance_km) * (1 + 1e-9)

        def w(r) -> float:
            age = min(max((scenario.date - r.filed).days, 0), 30)
            return policy.priority_weights[r.priority] * (1 + 0.01 * age)

        reqs.sort(key=lambda r: (-r.priority, r.filed, r.id))
        points = unit_vectors([r.lat for r in reqs], [r.lon for r in reqs])
        # The nearest few lots answer almost every request; only a request that
        # exhausts them asks for everything in range (a ball query per request
        # for all 10^5 requests would list billions of pairs).
        k = min(NEAREST, len(lots))
        _, near = tree.query(points, k=k, distance_upper_bound=radius)
        near = np.asarray(near).reshape(len(reqs), k)
        for i, r in enumerate(reqs):
            missing = r.quantity
            cand = near[i][near[i] < len(lots)]
            for attempt in range(2):
                if attempt == 1:
                    if missing == 0 or k == len(lots) or len(cand) < k:
                        break
                    wide = np.asarray(tree.query_ball_point(points[i], radius), dtype=np.int64)
                    cand = np.setdiff1d(wide, cand)
                idx = cand[stock[cand] > 0]
                km = great_circle_km(lat[idx], lon[idx], r.lat, r.lon)
                for j in np.argsort(km, kind="stable"):
                    if missing == 0 or km[j] > policy.max_distance_km:
                        break
                    lot = lots[idx[j]]
                    if lot.regions is not None and r.region not in lot.regions:
                        continue
                    take = int(min(missing, stock[idx[j]]))
                    stock[idx[j]] -= take
                    missing -= take
                    value += request_value(scenario, r) * take
                    effort += take * weight * float(km[j])
                    count += 1
    return GreedyResult(value, effort, count)
