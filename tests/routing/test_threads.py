"""VROOM's search threads: the workers' cores for one piece, one thread per part."""

from __future__ import annotations

import pytest

from routing import SolveParams, solve
from routing.parallel import solve_part
from tests.helpers.routing import assert_valid, random_problem


@pytest.mark.parametrize("workers", [1, 2])
def test_one_piece_lets_vroom_search_with_the_workers(
    vroom_calls: list[dict[str, object]], workers: int
) -> None:
    problem = random_problem(3, shipments=10, vehicles=2)
    params = SolveParams(time_limit=1.0, backends=("vroom",), workers=workers)
    result = solve(problem, params, seed=0)
    assert [c["nb_threads"] for c in vroom_calls] == [workers]
    # Time mode (iteration mode searches on one thread): valid routes, and no
    # claim on how much a search bounded by the clock delivers.
    assert_valid(problem, result)


def test_a_part_of_the_decomposition_searches_with_one_thread(
    vroom_calls: list[dict[str, object]],
) -> None:
    # What each worker process runs: its part, whatever the day's workers, on
    # one core (two parts with two threads each would fight for two cores).
    problem = random_problem(21, shipments=12, vehicles=3)
    params = SolveParams(time_limit=1.0, backends=("vroom",), workers=2)
    result = solve_part(problem, params, seed=0)
    assert [c["nb_threads"] for c in vroom_calls] == [1]
    assert_valid(problem, result)
