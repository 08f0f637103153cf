"""The state of a test database, to prove a request changed nothing.

:func:`snapshot` reads every table of the models (rows sorted, as plain tuples)
plus the archive's head hash. Two snapshots compare equal when no business row,
no archive event and no account row changed.

Bookkeeping a read is allowed to write is left out, and only that: a session's
``user_sessions.last_seen_at`` (the idle timeout's clock, written at most once a
minute by ``engine.accounts.session_user``) and a bearer token's
``api_tokens.last_used_at``. Everything else of those tables (a session started
or ended, a token created or revoked) is compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

import engine.models  # noqa: F401  (every table on Base.metadata)
from engine.db.base import Base

# Columns a GET may write: the sessions' and tokens' "last used" clocks.
BOOKKEEPING: dict[str, frozenset[str]] = {
    "user_sessions": frozenset({"last_seen_at"}),
    "api_tokens": frozenset({"last_used_at"}),
}


@dataclass(frozen=True)
class Snapshot:
    """Every table's rows (bookkeeping columns left out) and the archive head."""

    tables: dict[str, tuple[tuple[Any, ...], ...]]
    head: str | None

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(rows) for name, rows in self.tables.items()}

    def differences(self, other: Snapshot) -> list[str]:
        """Human-readable differences from ``other`` (empty when equal)."""
        found = []
        if self.head != other.head:
            found.append(f"archive head {self.head} -> {other.head}")
        for name, rows in self.tables.items():
            after = other.tables.get(name, ())
            if rows != after:
                added = set(after) - set(rows)
                removed = set(rows) - set(after)
                found.append(
                    f"{name}: {len(rows)} -> {len(after)} rows, "
                    f"{len(added)} new or changed, {len(removed)} gone or changed"
                )
        return found


def _sortable(row: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(repr(v) for v in row)


def snapshot(db_engine: Engine) -> Snapshot:
    """The current state of the database behind ``db_engine``."""
    from engine.models.audit import AuditHead

    tables: dict[str, tuple[tuple[Any, ...], ...]] = {}
    head = None
    with db_engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            skip = BOOKKEEPING.get(table.name, frozenset())
            columns = [c for c in table.columns if c.name not in skip]
            rows = [tuple(r) for r in conn.execute(select(*columns))]
            tables[table.name] = tuple(sorted(rows, key=_sortable))
        head_row = conn.execute(select(AuditHead.__table__)).mappings().first()
        if head_row is not None:
            head = str(dict(head_row))
    return Snapshot(tables, head)
