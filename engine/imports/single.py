"""One record as a one-row import: what the entry forms (:mod:`engine.entries`) and
the JSON API (:mod:`engine.intake`) share.

A record typed into a form or submitted alone meets exactly the rules of a row of
an import file: its values are the cells of a one-row table that goes through
:func:`engine.imports.prepare.prepare_table` (checked against the database's
catalogue, :func:`engine.imports.store.database_catalogue`) and
:func:`engine.imports.store.apply_prepared`. Each caller keeps its own rules
around these steps (a form refuses a stored ref and generates one; the API answers
a retry of an identical record with the stored one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db.session import begin_write
from engine.errors import ConflictError
from engine.geocode import Geocoder
from engine.imports.prepare import Prepared, prepare_table
from engine.imports.read import Row, Table
from engine.imports.report import ImportReport
from engine.imports.schemas import Kind
from engine.imports.store import apply_prepared, database_catalogue
from engine.models import AuditHead

ROW = 2  # the row number a one-row table's row has (the header is row 1)


def lock_for_write(session: Session) -> None:
    """Hold what a single record's checks read (a ref still free, the household
    rule) until the commit.

    SQLite: the write lock before reading, as an import takes it. PostgreSQL: the
    archive's head row, locked now rather than when the event is appended (every
    record appends one, so they queue there anyway): a second record of the same
    household waits for the first to commit, then sees it.
    """
    begin_write(session)
    session.execute(select(AuditHead.seq).where(AuditHead.id == 1).with_for_update())


def prepare_row(
    session: Session,
    kind: Kind,
    columns: Sequence[str],
    cells: Mapping[str, str | None],
    *,
    name: str,
    sha256: str,
    org: str,
    geocoder: Geocoder | None,
    duplicate_window_days: int,
    today: date,
) -> Prepared:
    """:func:`~engine.imports.prepare.prepare_table` of the one-row table ``cells``
    (``columns`` in order, a missing one empty), named ``name`` / ``sha256``.

    Raises ``ValueError`` for an ``org`` code the rules refuse."""
    table = Table(
        name=name,
        sha256=sha256,
        columns=tuple(columns),
        rows=(Row(ROW, tuple(cells.get(c) for c in columns)),),
    )
    # The database's catalogue, as an import checks it (admins may add categories).
    return prepare_table(
        kind,
        table,
        org=org,
        geocoder=geocoder,
        duplicate_window_days=duplicate_window_days,
        today=today,
        categories=database_catalogue(session),
    )


def store_row(
    session: Session,
    prepared: Prepared,
    *,
    actor: str,
    household_key: bytes | Callable[[], bytes],
    org: str,
    commit: bool,
    duplicate_window_days: int,
    today: date,
    import_event: bool,
    conflict: str,
) -> ImportReport:
    """:func:`~engine.imports.store.apply_prepared` of a prepared one-row table.

    ``household_key`` (bytes, or a function giving them) is asked for only for a
    request. A unique key taken by another writer between the checks and the write
    is a :class:`~engine.errors.ConflictError` saying ``conflict``.
    """
    key = b""
    if prepared.kind is Kind.REQUESTS:
        key = household_key() if callable(household_key) else household_key
    try:
        return apply_prepared(
            session,
            prepared,
            actor=actor,
            household_key=key,
            org=org,
            commit=commit,
            duplicate_window_days=duplicate_window_days,
            today=today,
            import_event=import_event,
        )
    except IntegrityError:
        raise ConflictError(conflict) from None
