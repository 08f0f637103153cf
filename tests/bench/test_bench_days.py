"""The generated-days benchmark: every solver gets the same workers; bad input is refused."""

from __future__ import annotations

from datetime import date

import pytest

from bench import days
from engine.generate import generate_scenario
from engine.scenario.reader import parse_scenario
from engine.solve import allocate


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_bad_workers_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        days.main(["--workers", bad])
    assert exc.value.code == 2
    assert "argument --workers" in capsys.readouterr().err


@pytest.mark.parametrize("backends", [None, ("vroom",)])
def test_routing_with_two_workers_gives_a_valid_plan(backends: tuple[str, ...] | None) -> None:
    doc = generate_scenario(requests=60, supplies=10, volunteers=3, seed=3, day=date(2026, 11, 28))
    scenario = parse_scenario(doc)
    allocation = allocate(scenario)
    row = days.route_with(scenario, allocation, backends, 1.0, 0, workers=2)
    assert row["valid"] and row["violations"] == 0
    assert 0 < row["delivered"] <= row["allocated"]
