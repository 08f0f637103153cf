"""The report of an import: a preview without ``--commit``, the outcome with it.

``--json`` prints :meth:`ImportReport.to_json`, exactly the spec's shape::

    {"ok": false, "counts": {"new": 0, "updated": 0, "unchanged": 0},
     "errors": [{"row": 7, "column": "quantity", "value": "-3",
                 "reason": "must be a positive integer"}]}

and the text form is :meth:`ImportReport.lines`: a summary line, then one line per
error, ``row 7, column quantity, value "-3": must be a positive integer``. Household
identifiers never appear: issues carry ``"(hidden)"`` in their place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.imports.issues import ImportIssue


@dataclass(frozen=True, slots=True)
class Counts:
    """Rows that would create, change or leave a record as it is (the database layer counts)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def to_json(self) -> dict[str, int]:
        """The ``counts`` object of the JSON report."""
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import found and did.

    ``file``: the file as named on the command line; ``kind``: the import kind;
    ``committed``: whether the changes were written (``--commit`` with no error).
    ``ok`` is true when there is no error; the command then exits 0, else 2.
    Errors are kept sorted by row (header problems, row 1, first), then in the order
    they were found within a row.
    """

    kind: str
    file: str
    counts: Counts = Counts()
    errors: tuple[ImportIssue, ...] = field(default=())
    committed: bool = False

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.errors, key=lambda issue: issue.row))  # stable
        object.__setattr__(self, "errors", ordered)

    @classmethod
    def rejected(cls, kind: str, file: str, errors: Iterable[ImportIssue]) -> ImportReport:
        """A report of a file refused for ``errors`` (nothing counted, nothing written)."""
        return cls(kind, file, Counts(), tuple(errors), committed=False)

    @property
    def ok(self) -> bool:
        """No error: the file is (or may be) applied."""
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """The spec's ``--json`` object: ``ok``, ``counts``, ``errors``."""
        return {
            "ok": self.ok,
            "counts": self.counts.to_json(),
            "errors": [issue.to_json() for issue in self.errors],
        }

    def json_text(self) -> str:
        """:meth:`to_json` as one line of JSON (non-ASCII kept as is)."""
        return json.dumps(self.to_json(), ensure_ascii=False)

    def summary(self) -> str:
        """One line: what the file holds and what became of it."""
        c = self.counts
        if not self.ok:
            n = len(self.errors)
            return f"{self.file}: rejected, {n} error{'s' if n != 1 else ''} (nothing written)"
        changes = f"{c.new} new, {c.updated} updated, {c.unchanged} unchanged"
        if self.committed:
            return f"{self.file}: imported {self.kind}: {changes}"
        return f"{self.file}: preview of {self.kind}: {changes} (nothing written; --commit applies)"

    def lines(self) -> list[str]:
        """The text report: :meth:`summary`, then one line per error."""
        return [self.summary(), *(str(issue) for issue in self.errors)]

    def text(self) -> str:
        """:meth:`lines` joined by newlines."""
        return "\n".join(self.lines())
