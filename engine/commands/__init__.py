"""The platform's ``jessr`` subcommands, one module per group of commands.

Every public module of this package (a name not starting with ``_``) defines
``register(subparsers)``, which adds its subcommands to ``jessr``'s parser with
``set_defaults(func=handler)``; ``engine.cli`` calls :func:`register_all`. Adding a
command group is adding a module here, nothing else. Modules import heavy
dependencies (SQLAlchemy, pandas…) inside their handlers, so ``jessr solve``
stays quick to start.

A handler takes the parsed ``argparse.Namespace`` and returns the exit status; it
reports problems by raising ``engine.errors`` exceptions (one ``jessr: …`` line,
their exit status). ``engine.commands._common.operation()`` opens the configured
database (refusing an un-migrated one), yields ``(settings, session)`` and commits
once when the block succeeds.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any


def register_all(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Let every command module of this package add its subcommands."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
