"""Schema migrations, run programmatically (``jessr db upgrade``).

The Alembic scripts live in ``engine/db/migrations`` inside the package, so an
installed wheel migrates its database without a checkout or an ini file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine.errors import InputError

if TYPE_CHECKING:
    from engine.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def head_revision() -> str:
    """The revision the code's models correspond to (the single head)."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:  # a development mistake, not a user's
        raise RuntimeError(f"the migrations have {len(heads)} heads, expected one: {heads}")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    """The database's revision, or None for a database never migrated."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


# Any constant: the advisory lock that serialises concurrent `jessr db upgrade` runs.
_UPGRADE_LOCK_KEY = 0x6A65737372  # "jessr"


def _lock_for_upgrade(conn: Connection) -> None:
    """Serialise concurrent upgrades: the second waits, then finds the schema at head.

    SQLite: ``BEGIN IMMEDIATE`` takes the file's write lock for the whole migration
    (which also makes it atomic). PostgreSQL: a transaction-scoped advisory lock
    (its DDL is transactional already).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})


@dataclass(frozen=True)
class UpgradeResult:
    """What ``upgrade_database`` did."""

    before: str | None
    after: str
    seeded: dict[str, int]  # reference records added or changed, per table


def upgrade_database(settings: Settings) -> UpgradeResult:
    """Migrate the configured database to head and sync the reference data; idempotent.

    Creates the SQLite file (mode 0600) and its folder when absent.
    """
    from engine.db.seed import seed_reference
    from engine.db.session import describe_url, first_line, make_engine, parse_url

    url = parse_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The file holds personal data: created private (SQLite gives its -wal and
        # -shm files the same permissions).
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _lock_for_upgrade(conn)
            before = current_revision(conn)
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            # The seed joins the migration's transaction: schema and reference data
            # appear together or not at all.
            with Session(bind=conn) as session:
                seeded = seed_reference(session, actor=settings.actor)
                session.flush()
    except DBAPIError as exc:
        raise InputError(
            f"cannot upgrade the database {describe_url(url)}: {first_line(exc.orig)}"
        ) from None
    finally:
        engine.dispose()
    return UpgradeResult(before=before, after=head_revision(), seeded=seeded)
