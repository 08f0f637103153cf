"""Scenario documents for engine tests, and the plan check of an outcome."""

from __future__ import annotations

from typing import Any

from engine.checker import CheckReport, check_plan
from engine.scenario.model import Scenario
from engine.scenario.writer import plan_to_dict
from engine.solve import SolveOutcome


def assert_plan_valid(scenario: Scenario, outcome: SolveOutcome) -> CheckReport:
    """The outcome's plan passes :func:`engine.checker.check_plan`; its report."""
    report = check_plan(scenario, plan_to_dict(outcome.plan))
    assert report.valid, report.violations[:5]
    return report


def scenario_doc(**sections: Any) -> dict[str, Any]:
    """A scenario document (exchange format, version 1) for the test day
    2026-11-28 with these sections (``supplies=[...]``, ``requests=[...]``, ...)."""
    return {"version": 1, "date": "2026-11-28", **sections}


def clock(minutes: int) -> str:
    """``HH:MM`` of minutes after midnight, held within the day (00:00-24:00)."""
    minutes = max(0, min(1440, minutes))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
