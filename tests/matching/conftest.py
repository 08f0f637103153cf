"""Fixtures of the matching tests (the problem builders live in tests.helpers.matching)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from matching import MatchingProblem
from tests.helpers.matching import random_problem


@pytest.fixture
def make_problem() -> Callable[..., MatchingProblem]:
    return random_problem
