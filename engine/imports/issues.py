"""One problem of an import file: row, column, the value found, and why it is bad."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.scenario.rules import ECHO_CHARS, quote

HIDDEN = "(hidden)"  # what a report shows in place of a household identifier
EMPTY = "(empty)"  # how the text report shows a missing value


def echo(value: str | None) -> str | None:
    """A cell value as reports echo it: cut to 40 characters plus "…"."""
    if value is None or len(value) <= ECHO_CHARS:
        return value
    return value[:ECHO_CHARS] + "…"


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A bad cell (or a missing column, reported once at row 1).

    ``row`` is the row number as a spreadsheet shows it (the header is row 1);
    ``column`` the header name; ``value`` the cell as found, already shortened for
    echo (``None`` when empty, ``"(hidden)"`` for a household identifier);
    ``reason`` says what is wrong without repeating the value.
    ``str(issue)`` is ``row 7, column quantity, value "-3": must be a positive integer``.
    """

    row: int
    column: str
    value: str | None
    reason: str

    def __str__(self) -> str:
        if self.value is None:
            shown = EMPTY
        elif self.value == HIDDEN:
            shown = HIDDEN
        else:
            shown = quote(self.value)
        return f"row {self.row}, column {self.column}, value {shown}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        """The issue as the spec's ``--json`` report lists it."""
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}
