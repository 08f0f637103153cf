"""Engines and sessions: SQLite tuned for a shared file, PostgreSQL through psycopg 3.

The operation boundary (a command, later a web request or a task) opens a
:class:`Database` with :func:`open_database`, runs services inside one
``with db.session() as session:`` block, and that block commits once — or rolls
everything back when the block raises. Services never commit. An operation that
concurrent writers may abort (PostgreSQL serialization failures and deadlocks)
runs as ``db.run(work)``, which reruns the whole transaction.

SQLite transactions: the driver opens its transaction lazily, at the first
statement that writes, so reads before it see the latest committed state and
writers queue on the file lock (``busy_timeout``). Code that must read and then
write a consistent snapshot (e.g. checking stock before reserving it) calls
:func:`begin_write` first, or better uses a conditional ``UPDATE … WHERE`` with a
row-count check, which is atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import ConflictError, InputError, NotMigrated

if TYPE_CHECKING:
    from engine.config import Settings

# Seconds a SQLite writer waits for the file lock before giving up ("database is
# locked"); long enough for a batch publish of a national day to finish.
SQLITE_BUSY_TIMEOUT_S = 60

T = TypeVar("T")

# SQLSTATEs of transactions PostgreSQL aborted that succeed when run again.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
RETRY_ATTEMPTS = 5


def parse_url(url: str | URL) -> URL:
    """The SQLAlchemy URL of ``url``; ``postgresql://`` means the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"JESSR_DATABASE_URL: not a database URL: {url!s}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        # SQLAlchemy's default PostgreSQL driver is psycopg2; Jessr ships psycopg 3.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys on and a busy timeout."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:  # unknown dialect or missing driver
        raise InputError(f"JESSR_DATABASE_URL: {exc}") from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers never block the writer and the writer never blocks readers.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        # NORMAL is durable across application crashes in WAL mode (only a power
        # loss can drop the last commits), and much faster than FULL.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def begin_write(session: Session) -> None:
    """Take the database's write lock now, before the transaction's first read.

    On SQLite this issues ``BEGIN IMMEDIATE`` when the session has not started a
    transaction on the file yet, so every read that follows sees a snapshot no
    other writer can change before this transaction ends. On PostgreSQL it does
    nothing (row locks and conditional updates do that job there).
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    dbapi = session.connection().connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        session.execute(text("BEGIN IMMEDIATE"))


def describe_url(url: str | URL) -> str:
    """``url`` for messages, with any password hidden."""
    return parse_url(url).render_as_string(hide_password=True)


class Database:
    """An opened, migrated database: its engine and a session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.factory = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One operation: a session committed once at the end, rolled back on error."""
        with self.factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def run(self, work: Callable[[Session], T], *, attempts: int = RETRY_ATTEMPTS) -> T:
        """``work(session)`` in one transaction, committed once; retried when the
        database aborted it for a transient reason (see :func:`is_transient`).

        A PostgreSQL serialization failure or deadlock, or SQLite's "database is
        locked" after the busy timeout, rolls the whole transaction back — nothing
        is half-applied — and ``work`` runs again on a fresh session, up to
        ``attempts`` times (then :class:`ConflictError`). ``work`` must therefore
        have no effect outside the session.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.session() as session:
                    return work(session)
            except DBAPIError as exc:
                if not is_transient(exc):
                    raise
                if attempt == attempts:
                    raise ConflictError(
                        f"the database kept aborting the operation ({first_line(exc.orig)}); "
                        "nothing written, retry"
                    ) from None
                time.sleep(random.uniform(0, 0.05 * attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def is_transient(exc: DBAPIError) -> bool:
    """True for an error that rolled the transaction back and may not recur on a rerun."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if state in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


def open_database(settings: Settings) -> Database:
    """Open the configured database, refusing one that is not at the code's revision.

    Raises :class:`NotMigrated`
    (exit 2, one line telling to run ``jessr db upgrade``) when the database does not
    exist, is empty or is at another revision, and :class:`InputError` when it
    cannot be reached.
    """
    from engine.db.migrate import current_revision, head_revision

    url = parse_url(settings.database_url)
    where = describe_url(url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(url.database).exists()
    ):
        raise NotMigrated(f"no database at {url.database}; run `jessr db upgrade` first")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    except DBAPIError as exc:
        engine.dispose()
        raise InputError(f"cannot open the database {where}: {first_line(exc.orig)}") from None
    head = head_revision()
    if current != head:
        engine.dispose()
        if current is None:
            raise NotMigrated(f"the database {where} is not initialised; run `jessr db upgrade`")
        raise NotMigrated(
            f"the database {where} is at schema revision {current}, this version of Jessr "
            f"needs {head}; run `jessr db upgrade`"
        )
    return Database(engine)


def first_line(exc: BaseException | None) -> str:
    """The first non-empty line of an exception's message (driver errors span lines)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__
