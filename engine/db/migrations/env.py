"""Alembic environment of the Jessr schema.

Run programmatically by ``engine.db.migrate`` (``jessr db upgrade``), which passes
an open connection in ``config.attributes["connection"]``; a developer can also
run ``alembic -x url=sqlite:///var/jessr.db revision --autogenerate -m "…"`` with
``-c engine/db/alembic.ini``.
"""

from __future__ import annotations

from alembic import context

import engine.models  # noqa: F401  (registers every table on Base.metadata)
from engine.db.base import Base
from engine.db.session import make_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: later migrations rebuild tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_online() -> None:
    """Migrate over the given connection, or over one opened from ``-x url=…``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Jessr migrations run online only (jessr db upgrade)")
run_migrations_online()
