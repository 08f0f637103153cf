"""``jessr db upgrade``: create or migrate the database to the code's schema."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr db …``."""
    db = sub.add_parser("db", help="database schema: jessr db upgrade")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = actions.add_parser(
        "upgrade", help="migrate the database to this version's schema (idempotent)"
    )
    up.set_defaults(func=_upgrade)


def _upgrade(ns: argparse.Namespace) -> int:
    from engine.commands._common import load_settings
    from engine.db.migrate import upgrade_database
    from engine.db.session import describe_url

    settings = load_settings()
    result = upgrade_database(settings)
    where = describe_url(settings.database_url)
    if result.before == result.after:
        print(f"database {where} already at revision {result.after}")
    else:
        print(f"database {where} upgraded from {result.before or 'empty'} to {result.after}")
    added = ", ".join(f"{n} {table}" for table, n in result.seeded.items() if n)
    if added:
        print(f"reference data synced: {added}")
    return 0
