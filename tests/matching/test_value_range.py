"""Exact values or a refusal: priority weights with many decimals or huge
ratios never make the min-cost flow fail or wrap a 64-bit cost silently."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from matching import ValueRangeError, solve
from matching.value import (
    FARTHEST_KM,
    INT64_MAX,
    POTENTIAL_HEADROOM,
    cost_scale,
    integer_weights,
    max_unit_value,
    scaled_values,
)
from tests.helpers.matching import random_problem
from tests.helpers.reference_lp import eligible_pairs

REFUSAL = "too far apart to allocate exactly"


def best_value(p) -> float:
    """max V by HiGHS (reference_lp's pairs), values scaled to at most 1 so
    that weights up to 1e19 stay well conditioned; the effort stage of
    :func:`reference_optimum` is not asked for (it fails numerically there)."""
    pairs = eligible_pairs(p)
    if not pairs:
        return 0.0
    n_lots = len(p.lots)
    a = coo_matrix(
        (
            np.ones(2 * len(pairs)),
            (
                [x for i, j, _ in pairs for x in (i, n_lots + j)],
                [k for k in range(len(pairs)) for _ in (0, 1)],
            ),
        ),
        shape=(n_lots + len(p.needs), len(pairs)),
    )
    b = np.array([x.quantity for x in p.lots] + [x.quantity for x in p.needs], dtype=float)
    value = np.array([p.value_per_unit(p.needs[j]) for _, j, _ in pairs])
    top = value.max()
    res = linprog(-value / top, A_ub=a, b_ub=b, method="highs")
    assert res.status == 0
    return -res.fun * top


# A weight: an integer mantissa over 10^0..10^6 (the decimals the exact
# values honour), from tiny to far past a 64-bit integer once scaled.
weight = st.builds(lambda m, d: m / 10**d, st.integers(1, 10**19), st.integers(0, 6)).filter(
    lambda w: w > 0
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_lots=st.integers(1, 15),
    n_needs=st.integers(1, 30),
    n_categories=st.integers(1, 2),
    weights=st.lists(weight, min_size=5, max_size=5),
)
def test_any_weights_are_allocated_optimally_or_refused_by_name(
    seed, n_lots, n_needs, n_categories, weights
):
    problem = replace(
        random_problem(seed, n_lots, n_needs, n_categories),
        priority_weights={p + 1: w for p, w in enumerate(weights)},
    )
    try:
        result = solve(problem)
    except ValueRangeError as exc:
        assert REFUSAL in str(exc) and "holds at most" in str(exc)
        return
    # HiGHS works in floats to ~1e-7 of the objective (weights of 0.002 next
    # to 20,156 sit below that); a misplaced unit between weights this far
    # apart costs far more.
    assert result.metrics.allocated_value == pytest.approx(best_value(problem), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(
    "weights",
    [
        {1: 0.123456, 2: 20000.0, 3: 4.0, 4: 8.0, 5: 16.0},  # made BAD_COST_RANGE
        {1: 1.0, 2: 2e15, 3: 4.0, 4: 8.0, 5: 16.0},
        {1: 1.0, 2: 1.8e17, 3: 4.0, 4: 8.0, 5: 16.0},  # wrapped int64: a wrong plan
    ],
)
def test_the_reported_weights_are_exact_or_refused(weights):
    for seed in range(4):
        problem = replace(random_problem(seed, 12, 25, 1), priority_weights=weights)
        try:
            result = solve(problem)
        except ValueRangeError as exc:
            assert REFUSAL in str(exc)
            continue
        assert result.metrics.allocated_value == pytest.approx(best_value(problem), rel=1e-9)


def test_a_higher_weight_wins_the_unit_even_at_the_limit():
    # Two requests, one unit: the value the flow must still tell apart is
    # just inside the stated limit.
    top = max_unit_value(1, 2) // 130
    problem = random_problem(3, 1, 2, 1)
    lot = replace(problem.lots[0], quantity=1)
    needs = tuple(
        replace(n, category=lot.category, lat=lot.lat, lon=lot.lon, priority=p, filed=problem.date)
        for n, p in zip(problem.needs, (1, 2), strict=True)
    )
    weights = {1: float(top - 1), 2: float(top), 3: 1.0, 4: 1.0, 5: 1.0}
    problem = replace(problem, lots=(replace(lot, regions=None, expires=None),), needs=needs)
    problem = replace(problem, priority_weights=weights)
    result = solve(problem)
    assert [(a.need, a.quantity) for a in result.allocations] == [(needs[1].id, 1)]


def test_values_are_divided_by_their_common_factor_exactly():
    whole = integer_weights({1: 0.123456, 2: 20000.0, 3: 4.0, 4: 8.0, 5: 16.0})
    assert whole == {1: 123456, 2: 20_000_000_000, 3: 4_000_000, 4: 8_000_000, 5: 16_000_000}
    priorities = np.array([1, 2, 5], dtype=np.int64)
    ages = np.array([0, 30, 10], dtype=np.int64)
    values = scaled_values(priorities, ages, {1: 0.123456, 2: 20000.0, 3: 4, 4: 8, 5: 16})
    exact = [123456 * 100, 20_000_000_000 * 130, 16_000_000 * 110]
    g = np.gcd.reduce(np.array(exact, dtype=np.int64))
    assert values.tolist() == [v // g for v in exact]


def test_cost_scale_keeps_the_headroom_below_ortools_range():
    for n_lots, n_needs in [(1, 1), (50, 4000), (10_000, 100_000)]:
        limit = max_unit_value(n_lots, n_needs)
        for value in (1, limit // 1000, limit):
            unit_m, big = cost_scale(max(value, 1), 150.0, n_lots, n_needs)
            nodes = n_lots + n_needs + 1 + 2  # OR-Tools adds a source and a sink
            assert big * max(value, 1) * 2 * (nodes + 1) * POTENTIAL_HEADROOM <= INT64_MAX
            assert big > 2 * min(n_lots, n_needs) * (150_000 / unit_m)  # still lexicographic
        with pytest.raises(ValueRangeError, match=f"{n_lots} lots and {n_needs} requests"):
            cost_scale(limit + 1, 150.0, n_lots, n_needs)


def test_a_far_reaching_max_distance_does_not_overflow_the_units():
    # 1e306 km is valid input; no eligible pair is farther than half the globe.
    unit_m, big = cost_scale(16 * 130, 1e306, 10, 10)
    assert (unit_m, big) == (1, 2 * 10 * (math.ceil(FARTHEST_KM * 1000) + 1) + 1)
