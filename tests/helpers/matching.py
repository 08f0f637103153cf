"""Allocation problems for the matching tests, and the checks they share.

``random_problem`` and ``dense_problem`` build small seeded problems;
``assert_valid`` checks the spec's rules 1, 2 and 6 on a result and
``assert_optimal`` holds V to the independent HiGHS LP (:mod:`tests.helpers.reference_lp`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest

from matching import Lot, MatchingProblem, Need
from tests.helpers.reference_lp import eligible_pairs, reference_optimum

DAY = date(2026, 11, 28)


def random_problem(
    seed: int, n_lots: int, n_needs: int, n_categories: int = 2, max_km: float = 60.0
) -> MatchingProblem:
    """Random problem around northern Tunisia: clustered depots, some restricted/expired lots."""
    rng = np.random.default_rng(seed)
    depots = rng.uniform((35.5, 9.0), (37.0, 11.0), size=(max(1, n_lots // 3), 2))
    lots = []
    for i in range(n_lots):
        lat, lon = depots[rng.integers(len(depots))]
        expires = DAY + timedelta(days=int(rng.integers(-3, 10))) if rng.random() < 0.2 else None
        regions = frozenset({"A"}) if rng.random() < 0.15 else None
        lots.append(
            Lot(
                f"S{i}",
                f"c{rng.integers(n_categories)}",
                int(rng.integers(1, 12)),
                float(lat),
                float(lon),
                expires,
                regions,
            )
        )
    needs = [
        Need(
            f"R{j}",
            f"c{rng.integers(n_categories)}",
            int(rng.integers(1, 4)),
            float(rng.uniform(35.3, 37.2)),
            float(rng.uniform(8.8, 11.2)),
            "AB"[rng.integers(2)],
            int(rng.integers(1, 6)),
            DAY - timedelta(days=int(rng.integers(-2, 45))),
        )
        for j in range(n_needs)
    ]
    weights = {f"c{k}": 1.0 + 2.5 * k for k in range(n_categories)}
    return MatchingProblem(DAY, tuple(lots), tuple(needs), weights, max_km)


def dense_problem(
    seed: int, n_lots: int, n_needs: int, n_categories: int = 1, max_km: float = 150.0
) -> MatchingProblem:
    """A dense day: every lot at its own place, most lots within reach of most needs.

    Scarce supply (about half the demand) so that values compete, a few
    restricted and expired lots so that the rules still bite.
    """
    rng = np.random.default_rng(seed)
    cats = [f"c{k}" for k in range(n_categories)]
    needs = [
        Need(
            f"R{j}",
            cats[rng.integers(n_categories)],
            int(rng.integers(1, 5)),
            float(rng.uniform(35.0, 37.0)),
            float(rng.uniform(8.5, 11.0)),
            "AB"[rng.integers(2)],
            int(rng.integers(1, 6)),
            DAY - timedelta(days=int(rng.integers(0, 40))),
        )
        for j in range(n_needs)
    ]
    lots = [
        Lot(
            f"S{i}",
            cats[rng.integers(n_categories)],
            int(rng.integers(1, 2 + 5 * n_needs // max(1, n_lots))),
            float(rng.uniform(35.0, 37.0)),
            float(rng.uniform(8.5, 11.0)),
            DAY - timedelta(days=1) if rng.random() < 0.05 else None,
            frozenset({"A"}) if rng.random() < 0.1 else None,
        )
        for i in range(n_lots)
    ]
    weights = {c: 1.0 + k for k, c in enumerate(cats)}
    return MatchingProblem(DAY, tuple(lots), tuple(needs), weights, max_km)


def assert_valid(problem, result) -> None:
    """Spec validity rules 1, 2 and 6 for an allocation result."""
    eligible = {(problem.lots[i].id, problem.needs[j].id) for i, j, _ in eligible_pairs(problem)}
    given_by = Counter()
    got_by = Counter()
    for a in result.allocations:
        assert (a.lot, a.need) in eligible, f"ineligible pair {a.lot} -> {a.need}"
        assert isinstance(a.quantity, int) and a.quantity > 0
        given_by[a.lot] += a.quantity
        got_by[a.need] += a.quantity
    for lot in problem.lots:
        assert given_by[lot.id] <= lot.quantity
    has_eligible = {n for _, n in eligible}
    unmet = {u.need: u for u in result.unmet}
    for n in problem.needs:
        missing = n.quantity - got_by[n.id]
        assert missing >= 0
        if missing:
            assert unmet[n.id].quantity == missing
            expected = "outcompeted" if n.id in has_eligible else "no_supply"
            assert unmet[n.id].reason.value == expected
        else:
            assert n.id not in unmet


def assert_optimal(problem, result) -> None:
    ref = reference_optimum(problem)
    assert result.metrics.allocated_value == pytest.approx(ref.value, rel=1e-9, abs=1e-9)
    # E within 0.1 % of the least effort at that V (we are in fact within metres).
    assert result.metrics.effort_kg_km <= ref.effort * 1.001 + 1e-6
