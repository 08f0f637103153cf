"""Checks of an engine outcome against the independent plan checker."""

from __future__ import annotations

from engine.checker import CheckReport, check_plan
from engine.scenario.model import Scenario
from engine.scenario.writer import plan_to_dict
from engine.solve import SolveOutcome


def assert_plan_valid(scenario: Scenario, outcome: SolveOutcome) -> CheckReport:
    """The outcome's plan passes :func:`engine.checker.check_plan`; its report."""
    report = check_plan(scenario, plan_to_dict(outcome.plan))
    assert report.valid, report.violations[:5]
    return report
