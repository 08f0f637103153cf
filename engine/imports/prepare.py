"""Everything an import does before it looks at the database: read, validate, geocode."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from engine.geocode import Geocoder, MemoryCache
from engine.imports.issues import ImportIssue
from engine.imports.places import locate
from engine.imports.read import Table, read_table
from engine.imports.records import Record
from engine.imports.schemas import Kind
from engine.imports.validate import CATALOGUE, DUPLICATE_WINDOW_DAYS, validate


@dataclass(frozen=True, slots=True)
class Prepared:
    """A file read, validated and geocoded: the database layer's input.

    ``table.name`` and ``table.sha256`` name the file (the import's audit event);
    ``records`` are the good rows, with coordinates; ``issues`` every problem found
    so far, sorted by row. The database layer adds its own issues (unknown
    organization or site, a household's open request elsewhere) before deciding.
    """

    kind: Kind
    table: Table
    records: tuple[Record, ...]
    issues: tuple[ImportIssue, ...]


def prepare(
    kind: Kind | str,
    path: str | Path,
    *,
    org: str | None = None,
    geocoder: Geocoder | None = None,
    duplicate_window_days: int = DUPLICATE_WINDOW_DAYS,
    today: date | None = None,
    categories: Collection[str] | None = None,
) -> Prepared:
    """Read ``path``, validate it as ``kind`` and geocode its address-only rows.

    Raises :class:`~engine.imports.read.ImportFileError` for a file that cannot be read
    and ``ValueError`` for a bad ``kind`` or ``org``. ``geocoder`` ``None`` means none is
    configured: every address-only row is then a bad row. A file whose header is
    wrong (issues at row 1) is not geocoded: it is refused anyway, and looking up
    thousands of addresses at the public service's one per second would only delay
    the report. ``categories`` is the catalogue the ``category`` column is checked
    against (the database's; ``None``: ``data/categories.json``).
    """
    table = read_table(path)
    token = CATALOGUE.set(categories)
    try:
        checked = validate(
            kind, table, org=org, duplicate_window_days=duplicate_window_days, today=today
        )
    finally:
        CATALOGUE.reset(token)
    records = list(checked.records)
    issues = list(checked.issues)
    if not any(issue.row == 1 for issue in issues):
        records, found = locate(records, geocoder or Geocoder(None, MemoryCache()))
        issues.extend(found)
    issues.sort(key=lambda issue: issue.row)  # stable: a row's own order is kept
    return Prepared(checked.kind, table, tuple(records), tuple(issues))
