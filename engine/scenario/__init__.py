"""The scenario/plan exchange format, version 1 (``shared/spec/exchange-format.md``).

Pure: no database, no network. :func:`load_scenario` reads and validates a
scenario file into the frozen :class:`Scenario`; the records validate themselves
on construction too, so a scenario built in code meets the same rules and limits
(:mod:`engine.scenario.rules`). Invalid input raises :class:`ScenarioError`, whose
``issues`` list every problem found, each naming the record, id and field.
"""

from engine.scenario.errors import Issue, ScenarioError
from engine.scenario.model import (
    Category,
    Pin,
    Policy,
    Request,
    Scenario,
    Supply,
    Volunteer,
)

__all__ = [
    "Category",
    "Issue",
    "Pin",
    "Policy",
    "Request",
    "Scenario",
    "ScenarioError",
    "Supply",
    "Volunteer",
]
