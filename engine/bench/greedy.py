"""The coordinators' hand method, as a baseline: by priority, nearest supply first.

Requests are served most urgent first (then longest waiting, then id); each
takes from its eligible lots in order of distance until it is served or no
eligible lot has stock left. Same eligibility rules as the exchange format.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from engine.checker import great_circle_km_array
from engine.scenario.model import Scenario
from matching.geo import chord_for_km, unit_vectors


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
        near = tree.query_ball_point(points, radius, return_sorted=False)
        for r, cand in zip(reqs, near, strict=True):
            idx = np.asarray(cand, dtype=np.int64)
            idx = idx[stock[idx] > 0]
            if len(idx) == 0:
                continue
            km = great_circle_km_array(lat[idx], lon[idx], r.lat, r.lon)
            order = np.argsort(km, kind="stable")
            missing = r.quantity
            for k in order:
                if km[k] > policy.max_distance_km:
                    break
                lot = lots[idx[k]]
                if lot.regions is not None and r.region not in lot.regions:
                    continue
                take = int(min(missing, stock[idx[k]]))
                stock[idx[k]] -= take
                missing -= take
                value += w(r) * take
                effort += take * weight * float(km[k])
                count += 1
                if missing == 0:
                    break
    return GreedyResult(value, effort, count)
