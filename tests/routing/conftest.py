"""Fixtures for routing tests: a factory of random small problems, a VROOM spy, a fork pool."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from routing import RoutingProblem
from tests.helpers.routing import random_problem


@pytest.fixture
def make_problem() -> Callable[..., RoutingProblem]:
    """Factory: ``make_problem(seed, shipments=8, vehicles=2, ...)``."""
    return random_problem


@pytest.fixture
def vroom_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The keyword arguments of every VROOM search started in this process."""
    import vroom

    seen: list[dict[str, object]] = []
    original = vroom.Input.solve

    def spy(self: vroom.Input, *args: object, **kwargs: object) -> object:
        seen.append(dict(kwargs))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vroom.Input, "solve", spy)
    return seen


@pytest.fixture
def pool() -> Iterator[ProcessPoolExecutor]:
    """Two forked workers, made after a test's monkeypatches (they inherit them)."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as executor:
        yield executor
