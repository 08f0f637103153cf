"""Optimality against an independent LP, validity and conservation of every plan."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import Executor, ProcessPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching.flow
from matching import MatchingParams, solve
from tests.helpers.matching import assert_optimal, assert_valid, random_problem


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
