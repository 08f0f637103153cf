"""The one error type of the exchange format, and the issues it carries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_LISTED = 20  # issues spelled out by str(); the rest are counted


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of a scenario: where, which field, what is wrong.

    ``path`` names the record (``requests[17] (id "R18")``, ``policy.road_factor``,
    ``scenario``, or the file name); ``field`` is the field's name when the problem
    belongs to one (``"quantity"``), else ``None``; ``message`` is the text after the
    colon. ``str(issue)`` is the one-line form
    ``requests[17] (id "R18"): quantity must be a positive integer, got -3``.
    """

    path: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(ValueError):
    """Invalid scenario or plan input, with every problem found.

    ``issues`` lists them in file order (the reader reports every problem of a file,
    not only the first). ``str(error)`` is meant for a person: the first issue's
    line exactly (``requests[17] (id "R18"): quantity must be a positive integer,
    got -3``), then, when there are more, one line per further issue up to
    :data:`MAX_LISTED` lines and a last line ``… and N more errors``. ``jessr``
    prints it and exits with status 2.

    Built from a plain string, the error holds one issue whose line is that string.
    """

    def __init__(self, issues: str | Issue | Iterable[Issue]) -> None:
        if isinstance(issues, str):
            found: tuple[Issue, ...] = (Issue("", None, issues),)
        elif isinstance(issues, Issue):
            found = (issues,)
        else:
            found = tuple(issues)
        if not found:
            raise ValueError("a ScenarioError needs at least one issue")
        # args is what pickle passes back to __init__: the error crosses process
        # boundaries (a worker pool, a task queue) with all its issues.
        super().__init__(found)
        self.issues = found

    def lines(self, limit: int = MAX_LISTED) -> list[str]:
        """The message lines: the first ``limit`` issues, then a count of the rest."""
        shown = [str(issue) for issue in self.issues[:limit]]
        rest = len(self.issues) - len(shown)
        if rest:
            shown.append(f"… and {rest} more error{'s' if rest > 1 else ''}")
        return shown

    def __str__(self) -> str:
        return "\n".join(self.lines())
