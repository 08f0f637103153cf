"""VROOM's exploration level: the most thorough one whose whole search fits its time."""

from __future__ import annotations

import pytest

from routing import SolveParams, solve
from routing.backends.vroom_backend import (
    FULL_SEARCH_SECONDS,
    MAX_EXPLORATION,
    OVERRUN,
    SEARCH_EXPONENT,
    exploration_level,
    search_seconds,
)
from tests.helpers.routing import assert_valid, random_problem


def test_small_problems_get_the_most_thorough_level() -> None:
    # A benchmark-sized instance: VROOM's whole level-5 search fits even a
    # fraction of a second.
    assert exploration_level(50, 0.4, 1) == MAX_EXPLORATION
    assert exploration_level(1400, 600.0, 2) == MAX_EXPLORATION


def test_a_large_problem_in_little_time_gets_a_level_that_finishes() -> None:
    # The measured case: a day of 1,200 active shipments, 17 s, two threads
    # -> level 2 (level 5 delivered 3-7 % less there); 40 s -> level 3.
    assert exploration_level(1200, 17.0, 2) == 2
    assert exploration_level(1200, 40.0, 2) == 3
    # Nothing fits: the lightest level.
    assert exploration_level(5000, 1.0, 1) == 1


def test_the_level_never_rises_with_size_and_never_falls_with_time_or_threads() -> None:
    sizes = [10, 100, 300, 600, 1000, 1500, 3000, 10000]
    times = [0.1, 0.5, 1.0, 5.0, 17.0, 60.0, 300.0]
    for threads in (1, 2, 4):
        for t in times:
            levels = [exploration_level(n, t, threads) for n in sizes]
            assert levels == sorted(levels, reverse=True)
        for n in sizes:
            levels = [exploration_level(n, t, threads) for t in times]
            assert levels == sorted(levels)
    for n in sizes:
        for t in times:
            assert exploration_level(n, t, 1) <= exploration_level(n, t, 2)


def test_the_prediction_is_the_fitted_power_law() -> None:
    assert search_seconds(2, 1000, 1) == FULL_SEARCH_SECONDS[1]
    assert search_seconds(2, 2000, 2) == FULL_SEARCH_SECONDS[1] * 2**SEARCH_EXPONENT / 2


def test_the_chosen_level_is_predicted_to_finish_in_time() -> None:
    for n in (200, 800, 1400, 2500):
        for t in (1.0, 5.0, 20.0, 100.0):
            level = exploration_level(n, t, 2)
            if level > 1:
                assert search_seconds(level, n, 2) <= OVERRUN * t
            if level < MAX_EXPLORATION:
                assert search_seconds(level + 1, n, 2) > OVERRUN * t


def test_the_solver_runs_vroom_at_the_level_asked_or_the_one_that_fits(
    vroom_calls: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = random_problem(5, shipments=12, vehicles=3)
    for level in (None, 5, 1):
        params = SolveParams(time_limit=1.0, backends=("vroom",), vroom_exploration=level)
        assert_valid(problem, solve(problem, params, seed=0))
    # Make the whole search of every level above 3 too long for this problem.
    monkeypatch.setattr(
        "routing.backends.vroom_backend.FULL_SEARCH_SECONDS", (0.0, 0.0, 0.0, 1e9, 1e9)
    )
    params = SolveParams(time_limit=1.0, backends=("vroom",), vroom_exploration=None)
    assert_valid(problem, solve(problem, params, seed=0))
    # 12 shipments: level 5 fits any time the portfolio gives VROOM.
    assert [c["exploration_level"] for c in vroom_calls] == [MAX_EXPLORATION, 5, 1, 3]


def test_the_default_is_vrooms_own_level_and_days_choose_by_size_and_time() -> None:
    from engine.solve import day_routing_params

    assert SolveParams().vroom_exploration == MAX_EXPLORATION
    assert day_routing_params(30.0, 2).vroom_exploration is None


@pytest.mark.parametrize("level", [0, 6])
def test_a_fixed_level_outside_vrooms_range_is_refused(level: int) -> None:
    with pytest.raises(ValueError, match="vroom_exploration from 1 to 5"):
        SolveParams(vroom_exploration=level)


def test_vroom_is_skipped_only_when_not_even_its_lightest_level_fits() -> None:
    from routing.portfolio import _plan_backends

    problem = random_problem(5, shipments=12, vehicles=3)
    day = SolveParams(backends=("vroom", "pyvrp"), shares=(0.85, 0.15), vroom_exploration=None)
    fixed = SolveParams(backends=("vroom", "pyvrp"), shares=(0.85, 0.15))
    many = list(range(1200))  # a 1,200-shipment day's active shipments, 10 s

    def planned(params: SolveParams, active: list[int], left: float) -> list[str]:
        return [name for name, _, _ in _plan_backends(problem, params, active, left, 2)]

    # Level 1 finishes in VROOM's share: it runs (at level 5 its construction
    # alone was predicted to take too long, so it was skipped).
    assert planned(day, many, 9.7) == ["vroom", "pyvrp"]
    assert planned(fixed, many, 9.7) == ["pyvrp"]
    # Not even level 1 fits: PyVRP alone.
    assert planned(day, list(range(6000)), 10.0) == ["pyvrp"]
