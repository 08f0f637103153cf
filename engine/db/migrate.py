"""Schema migrations, run programmatically (``jessr db upgrade``).

The Alembic scripts live in ``engine/db/migrations`` inside the package, so an
installed wheel migrates its database without a checkout or an ini file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from engine.errors import InputError

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


@dataclass(frozen=True)
class UpgradeResult:
    """What ``upgrade_database`` did."""

    before: str | None
    after: str
    seeded: dict[str, int]  # reference records added or changed, per table


def upgrade_database(settings: object) -> UpgradeResult:
    """Migrate the configured database to head and sync the reference data; idempotent.

    Creates the SQLite file (and its folder) when absent. ``settings`` is an
    ``engine.config.Settings``.
    """
    from engine.db.seed import seed_reference
    from engine.db.session import Database, describe_url, first_line, make_engine, parse_url

    url = parse_url(settings.database_url)  # type: ignore[attr-defined]
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            before = current_revision(conn)
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        with Database(engine).session() as session:
            seeded = seed_reference(session, actor=settings.actor)  # type: ignore[attr-defined]
    except DBAPIError as exc:
        raise InputError(
            f"cannot upgrade the database {describe_url(url)}: {first_line(exc.orig)}"
        ) from None
    finally:
        engine.dispose()
    return UpgradeResult(before=before, after=head_revision(), seeded=seeded)
