"""One short Li & Lim run against its best-known solution (needs shared data)."""

from __future__ import annotations

import pytest

from routing import SolveParams, solve, verify_route
from tests.helpers.lilim import BENCH, bks, read_lilim

pytestmark = pytest.mark.benchdata


@pytest.mark.skipif(not (BENCH / "lilim_100" / "lr101.txt").exists(), reason="no benchmark data")
def test_lr101_reaches_best_known_vehicles_and_near_distance() -> None:
    problem = read_lilim(BENCH / "lilim_100" / "lr101.txt")
    # Bounded by iterations: the figure reached does not depend on the machine's load.
    result = solve(problem, SolveParams(iterations=100), seed=0)
    assert all(verify_route(problem, r) is None for r in result.routes)
    vehicles, distance = bks("lr101")
    assert result.metrics.served == len(problem.shipments)
    assert result.metrics.vehicles_used == vehicles
    assert result.metrics.distance <= distance * 1.005
