"""Parts on an injected executor (routing.parallel): real worker processes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from routing import SolveParams, solve
from tests.helpers.routing import assert_valid, geo_problem

# Small parts, bounded by iterations: the plan does not depend on the clock.
SEEDED = SolveParams(iterations=20, part_size=30, decompose_above=50, workers=2)


class CountingPool(ProcessPoolExecutor):
    """A fork pool that counts what is submitted to it."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers, mp_context=multiprocessing.get_context("fork"))
        self.submitted: list[str] = []

    def submit(self, fn, /, *args, **kwargs):
        self.submitted.append(fn.__name__)
        return super().submit(fn, *args, **kwargs)


def test_a_regional_day_runs_its_parts_on_the_executor() -> None:
    problem = geo_problem(1)
    params = SolveParams(
        iterations=100, vroom_exploration=None, part_size=60, decompose_above=100, workers=2
    )
    with CountingPool(2) as pool:
        result = solve(problem, params, seed=0, executor=pool)
    assert result.metrics.backend.startswith("regional(5+")
    assert pool.submitted[:5] == ["solve_part"] * 5
    assert len(assert_valid(problem, result)) > 50


def test_in_process_and_pool_give_the_same_regional_plan(pool: ProcessPoolExecutor) -> None:
    problem = geo_problem(2, shipments=80, vehicles=10)
    alone = solve(problem, SEEDED, seed=3)
    pooled = solve(problem, SEEDED, seed=3, executor=pool)
    assert alone.metrics.backend.startswith("regional(")
    assert_valid(problem, pooled)
    assert pooled.routes == alone.routes
    assert pooled.dropped == alone.dropped


def test_in_process_and_pool_give_the_same_decomposed_plan(pool: ProcessPoolExecutor) -> None:
    # A matrix-backed problem above decompose_above goes to routing.decompose.
    problem = geo_problem(2, shipments=80, vehicles=10).to_problem()
    alone = solve(problem, SEEDED, seed=3)
    pooled = solve(problem, SEEDED, seed=3, executor=pool)
    assert alone.metrics.backend.startswith("decomposed(")
    assert pooled.routes == alone.routes
    assert pooled.dropped == alone.dropped


def test_a_broken_executor_leaves_the_parts_to_this_process() -> None:
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    pool.shutdown()  # submitting now raises: the parts go on in-process
    problem = geo_problem(2, shipments=80, vehicles=10)
    result = solve(problem, SEEDED, seed=3, executor=pool)
    assert result.metrics.backend.startswith("regional(")
    assert result.routes == solve(problem, SEEDED, seed=3).routes
