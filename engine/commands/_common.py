"""What platform commands share: settings, the operation boundary, output helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine.config import Settings

T = TypeVar("T")


def load_settings() -> Settings:
    """The settings of this process (environment and working directory)."""
    from engine.config import Settings

    return Settings.from_env()


@contextmanager
def operation(settings: Settings | None = None) -> Iterator[tuple[Settings, Session]]:
    """One command's database work: yields ``(settings, session)``, commits once at the end.

    Refuses an un-migrated database (``NotMigrated``, exit 2). A constraint the
    database enforces at commit (a concurrent insert of the same ref, stock taken by
    another batch) becomes a ``ConflictError`` (exit 3); nothing is written then.
    """
    from sqlalchemy.exc import IntegrityError

    from engine.db.session import first_line, open_database
    from engine.errors import ConflictError

    settings = settings or load_settings()
    with open_database(settings) as db:
        try:
            with db.session() as session:
                yield settings, session
        except IntegrityError as exc:
            raise ConflictError(
                f"the database refused the change ({first_line(exc.orig)}); nothing written, "
                "check the current state and retry"
            ) from None


def run_operation(work: Callable[[Settings, Session], T], settings: Settings | None = None) -> T:
    """``work(settings, session)`` as one operation, rerun on a transient abort.

    Like :func:`operation`, with ``Database.run``'s retries: use it for operations
    that compete with concurrent writers (publishing, delivery reports).
    """
    from sqlalchemy.exc import IntegrityError

    from engine.db.session import first_line, open_database
    from engine.errors import ConflictError

    settings = settings or load_settings()
    with open_database(settings) as db:
        try:
            return db.run(lambda session: work(settings, session))
        except IntegrityError as exc:
            raise ConflictError(
                f"the database refused the change ({first_line(exc.orig)}); nothing written, "
                "check the current state and retry"
            ) from None
