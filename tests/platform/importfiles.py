"""Import files for the platform's import tests: CSV files from dict rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from engine.db.base import Base
from tests.imports.conftest import VALID

# The rows each kind needs stored first (an organization, a site).
ORG_ROW = {"code": "crt", "name": "Croissant-Rouge", "region": "TN-11", "parent": ""}


def write(
    path: Path, kind: str, rows: Sequence[Mapping[str, str]], drop: Sequence[str] = ()
) -> Path:
    """A CSV of ``kind``: each row is the kind's valid row overridden by the dict."""
    header = [c for c in VALID[kind] if c not in drop]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            full = {**VALID[kind], **row}
            writer.writerow([full[c] for c in header])
    return path


def report(result: Any) -> dict[str, Any]:
    """The ``--json`` report a run printed."""
    return json.loads(result.out)


def row_counts(session: Any) -> dict[str, int]:
    """Rows per table (what "nothing written" compares)."""
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in Base.metadata.sorted_tables
    }


def dump(session: Any) -> str:
    """Every row of every table as text, as ``SELECT *`` shows it (a dump's content)."""
    parts = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(text(f"SELECT * FROM {table.name}")):
            parts.append(" | ".join(str(value) for value in row))
    return "\n".join(parts)
