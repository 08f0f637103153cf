"""``jessr import organizations|sites|inventory|requests|volunteers FILE [--org CODE]
[--commit] [--json]``.

Without ``--commit`` the file is checked against the database and the preview is
printed (new, updated, unchanged rows); nothing is written. With ``--commit`` the
whole file is applied in one transaction, or nothing is. A file with any bad row is
rejected whole, exit 2, every bad row listed on stderr (with ``--json``: the report,
``{"ok", "counts", "errors"}``, on stdout). The rules: ``docs/imports.md`` and
``engine.imports.store``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

KINDS = ("organizations", "sites", "inventory", "requests", "volunteers")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr import KIND FILE``."""
    p = sub.add_parser(
        "import",
        help="import organizations, sites, inventory, requests or volunteers (CSV/XLSX)",
        description="Check an import file against the database and preview what would "
        "change; --commit applies it (the whole file or nothing).",
    )
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=" | ".join(KINDS))
    p.add_argument("file", metavar="FILE", help=".csv (UTF-8, header row) or .xlsx (first sheet)")
    p.add_argument("--org", metavar="CODE", help="the organization of rows without an org")
    p.add_argument("--commit", action="store_true", help="apply the file (default: preview)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=_import)


def _import(ns: argparse.Namespace) -> int:
    from engine.commands._common import load_settings, operation
    from engine.errors import InputError
    from engine.geocache import database_geocoder
    from engine.imports.read import ImportFileError
    from engine.imports.store import run_import

    settings = load_settings()
    with operation(settings) as (settings, session):
        geocoder = database_geocoder(session, settings.geocoder)
        try:
            report = run_import(
                session,
                ns.kind,
                ns.file,
                actor=settings.actor,
                household_key=lambda: settings.household_key,
                geocoder=geocoder,
                org=ns.org,
                commit=ns.commit,
                duplicate_window_days=settings.duplicate_window_days,
            )
        except ImportFileError as exc:
            raise InputError(str(exc)) from None
        except ValueError as exc:  # a bad --org
            raise InputError(str(exc)) from None
        if not report.committed:
            # A preview or a rejected file: nothing at all is kept (not even the
            # geocoding cache or the household key's fingerprint).
            session.rollback()
    if ns.json:
        print(report.json_text())
    elif report.ok:
        print(report.summary())
    else:
        for line in report.lines():
            print(line, file=sys.stderr)
    return 0 if report.ok else 2
