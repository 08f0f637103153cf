"""``jessr audit verify|head``: check the archive's hash chain, print its head."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr audit …``."""
    audit = sub.add_parser("audit", help="the archive: jessr audit verify | head")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="recompute the hash chain: 0 it holds, 1 names the first bad event"
    )
    verify.add_argument(
        "--head",
        metavar="HASH",
        help="a head hash kept outside the database earlier; it must still be in the chain",
    )
    verify.set_defaults(func=_verify)
    head = actions.add_parser("head", help="print the head hash, to keep outside the database")
    head.set_defaults(func=_head)


def _verify(ns: argparse.Namespace) -> int:
    from engine import audit
    from engine.commands._common import operation

    with operation() as (_settings, session):
        result = audit.verify(session, expected_head=ns.head)
    print(result)
    if result.ok:
        return 0
    print(f"jessr: audit verify: {result.problem}", file=sys.stderr)
    return 1


def _head(ns: argparse.Namespace) -> int:
    from engine import audit
    from engine.commands._common import operation

    with operation() as (_settings, session):
        print(audit.head(session).hash)
    return 0
