"""The archive's readers and keepers: ``jessr trace``, ``jessr export archive``,
``jessr retention purge``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr trace``, ``jessr export archive`` and ``jessr retention purge``."""
    trace = sub.add_parser(
        "trace", help="the whole story of one record: jessr trace lot|request|household REF"
    )
    trace.add_argument("kind", choices=("lot", "request", "household"))
    trace.add_argument(
        "ref",
        metavar="REF",
        help="ORG/REF or REF (lot, request); for a household, the identifier its "
        "organization knows it by (only hashed, never printed)",
    )
    trace.add_argument("--org", metavar="CODE", help="the organization of REF")
    trace.add_argument("--json", action="store_true", help="print the trace as JSON")
    trace.set_defaults(func=_trace)

    export = sub.add_parser("export", help="exports: jessr export archive --org CODE -o DIR")
    exports = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    archive = exports.add_parser(
        "archive", help="an organization's records as CSV files with a manifest"
    )
    archive.add_argument("--org", required=True, metavar="CODE")
    archive.add_argument("-o", "--output", required=True, metavar="DIR", type=Path)
    archive.set_defaults(func=_export_archive)

    retention = sub.add_parser(
        "retention", help="personal data past its retention period: jessr retention purge"
    )
    actions = retention.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    purge = actions.add_parser(
        "purge", help="erase personal data past JESSR_RETENTION_DAYS after a request closed"
    )
    purge.add_argument("--dry-run", action="store_true", help="count what would be erased")
    purge.add_argument("--json", action="store_true", help="print the counts as JSON")
    purge.set_defaults(func=_purge)


def _trace(ns: argparse.Namespace) -> int:
    from engine.commands._common import operation
    from engine.trace import render, trace_household, trace_lot, trace_request

    with operation() as (settings, session):
        if ns.kind == "lot":
            result = trace_lot(session, ns.ref, ns.org)
        elif ns.kind == "request":
            result = trace_request(session, ns.ref, ns.org)
        else:
            result = trace_household(session, settings.household_key, ns.ref)
    if ns.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(result), end="")
    return 0


def _export_archive(ns: argparse.Namespace) -> int:
    from engine.commands._common import operation
    from engine.export import collect, write_export

    with operation() as (_settings, session):
        files, head = collect(session, ns.org)
    result = write_export(ns.output, ns.org, files, head)
    counts = ", ".join(f"{name} {rows}" for name, rows in result.rows.items())
    print(f"archive of {ns.org} written to {result.directory}: {counts}")
    print(f"audit head at export: event {result.head_seq} {result.head_hash}")
    return 0


def _purge(ns: argparse.Namespace) -> int:
    from engine.commands._common import run_operation
    from engine.retention import purge

    result = run_operation(
        lambda settings, session: purge(
            session, settings.retention_days, settings.actor, dry_run=ns.dry_run
        )
    )
    if ns.json:
        print(json.dumps(result.as_dict()))
        return 0
    verb = "would erase" if result.dry_run else "erased"
    print(
        f"retention {result.retention_days} days (closed before {result.cutoff:%Y-%m-%d %H:%M}Z): "
        f"{verb} the personal data of {result.requests} request(s), "
        f"{result.volunteers} volunteer(s) and {result.audit_events} archive event(s)"
    )
    return 0
