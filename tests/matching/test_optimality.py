"""Optimality against an independent LP, validity and conservation of every plan."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import Executor, ProcessPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching.flow
from matching import MatchingParams, solve
from tests.matching.conftest import random_problem
from tests.matching.reference_lp import eligible_pairs, reference_optimum


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_lots=st.integers(1, 25),
    n_needs=st.integers(1, 60),
    n_categories=st.integers(1, 3),
    max_km=st.sampled_from([20.0, 60.0, 150.0]),
)
def test_value_is_the_lp_optimum_and_effort_least(seed, n_lots, n_needs, n_categories, max_km):
    problem = random_problem(seed, n_lots, n_needs, n_categories, max_km)
    result = solve(problem)
    assert_valid(problem, result)
    assert_optimal(problem, result)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pricing_rounds_reach_the_optimum_from_a_tiny_start(monkeypatch, seed):
    # One candidate lot per need forces many pricing rounds: the certificate,
    # not the starting set, must carry optimality.
    monkeypatch.setattr(matching.flow, "INITIAL_NEIGHBOURS", 1)
    monkeypatch.setattr(matching.flow, "BLOCK_PAIRS", 500)  # many small pricing blocks
    problem = random_problem(seed, 40, 250, 1, 80.0)
    result = solve(problem)
    assert result.metrics.pricing_rounds > 1
    assert_valid(problem, result)
    assert_optimal(problem, result)


def test_same_input_same_allocations():
    problem = random_problem(5, 60, 400, 3, 80.0)
    assert solve(problem).allocations == solve(problem).allocations


def test_an_injected_process_pool_gives_the_same_plan():
    problem = random_problem(6, 60, 400, 3, 80.0)
    with ProcessPoolExecutor(2) as pool:
        pooled = solve(problem, MatchingParams(parallel_min_needs=0), executor=pool)
    assert pooled.allocations == solve(problem).allocations


def test_small_days_stay_in_process_even_with_an_executor():
    class Refusing(Executor):
        def submit(self, *args, **kwargs):
            raise AssertionError("a small day was handed to the executor")

    problem = random_problem(6, 60, 400, 3, 80.0)
    assert solve(problem, executor=Refusing()).allocations == solve(problem).allocations


def test_matching_imports_no_stateful_layer():
    code = (
        "import sys, matching; "
        "bad = [m for m in ('sqlalchemy', 'flask', 'engine', 'web') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
