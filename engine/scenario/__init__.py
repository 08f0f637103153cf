"""The scenario/plan exchange format, version 1 (``shared/spec/exchange-format.md``).

Pure: no database, no network. :func:`load_scenario` reads and validates a
scenario file into the frozen :class:`Scenario`; invalid input raises
:class:`ScenarioError` whose message names the record, id and field.
"""

from engine.scenario.errors import ScenarioError
from engine.scenario.model import (
    Category,
    Policy,
    Request,
    Scenario,
    Supply,
    Volunteer,
)

__all__ = [
    "Category",
    "Policy",
    "Request",
    "Scenario",
    "ScenarioError",
    "Supply",
    "Volunteer",
]
