"""The request's database session: opened on first use, committed once at the end.

Views call ``engine`` services with :func:`db_session`; the services never commit.
After the view, a response below 400 commits the session, anything else (an
error page, a refused form) rolls it back, so a request writes all or nothing.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.db.session import Database, begin_write


def database() -> Database:
    """The app's opened database."""
    return current_app.extensions["jessr.database"]


def settings() -> Settings:
    """The platform settings the app was created with."""
    return current_app.extensions["jessr.settings"]


def db_session() -> Session:
    """This request's session (one transaction, committed by the request boundary).

    On SQLite a state-changing request takes the write lock when its transaction
    begins (``BEGIN IMMEDIATE``): a transaction that read first and then writes
    cannot wait for another writer and would fail with "database is locked",
    whereas one that starts as a writer waits its turn (the busy timeout).
    PostgreSQL needs nothing of the kind.
    """
    if "db_session" not in g:
        session = database().factory()
        g.db_session = session
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            begin_write(session)
    return g.db_session


def init_app(app: Flask) -> None:
    """Commit after a successful response, roll back otherwise, always close."""

    @app.after_request
    def _commit(response: Response) -> Response:
        session = g.get("db_session")
        if session is not None:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
