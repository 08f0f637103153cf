"""Scenario ↔ allocation solver: builds the frozen matching problem."""

from __future__ import annotations

from engine.scenario.model import Scenario
from matching import Lot, MatchingProblem, Need


def matching_problem(
    scenario: Scenario, forbidden: frozenset[tuple[str, str]] = frozenset()
) -> MatchingProblem:
    """The allocation question of a scenario (pure translation, no decisions).

    ``forbidden`` (supply id, request id) pairs are eligible but not to be used; the
    scenario's own ``exclusions`` are passed as the problem's exact ``excluded`` pairs.
    """
    policy = scenario.policy
    return MatchingProblem(
        date=scenario.date,
        lots=tuple(
            Lot(s.id, s.category, s.quantity, s.lat, s.lon, s.expires, s.regions)
            for s in scenario.supplies
        ),
        needs=tuple(
            Need(r.id, r.category, r.quantity, r.lat, r.lon, r.region, r.priority, r.filed)
            for r in scenario.requests
        ),
        weight_kg={c.id: c.weight_kg for c in scenario.categories.values()},
        max_distance_km=policy.max_distance_km,
        priority_weights=dict(policy.priority_weights),
        forbidden=forbidden,
        excluded=scenario.exclusions,
    )
