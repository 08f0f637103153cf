"""Fixtures of the web tests: the app over a copy of the two-organization world
(:mod:`tests.web.world`) on SQLite, a test client, and signing in as any account.

``app`` has CSRF checks off (the access tests post bare requests);
``csrf_app`` has them on. PostgreSQL runs of the key journeys use ``pg_world``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.platform.conftest import TestDatabase, _make_database
from tests.web.world import World, build_world

TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


@pytest.fixture(scope="session")
def world_template(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> tuple[Path, World]:
    """The world built once on SQLite: (database file, World)."""
    base = tmp_path_factory.mktemp("web-world")
    gen = _make_database("sqlite", base, None, sqlite_template, True)
    database = next(gen)
    try:
        world = build_world(database)
        database.close()
        path = Path(database.url.removeprefix("sqlite:///"))
        return path, world
    finally:
        gen.close()


@pytest.fixture
def web_db(tmp_path: Path, world_template: tuple[Path, World]) -> Iterator[TestDatabase]:
    """A fresh copy of the world's database for one test."""
    source, _world = world_template
    workdir = tmp_path / "work"
    (workdir / "var").mkdir(parents=True)
    path = workdir / "var" / "jessr.db"
    shutil.copyfile(source, path)
    db = TestDatabase("sqlite", f"sqlite:///{path}", workdir)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def world(world_template: tuple[Path, World]) -> World:
    return world_template[1]


def make_app(database: TestDatabase, **config: Any) -> Flask:
    """The web app over ``database`` with the test settings (and ``config`` overrides)."""
    from dataclasses import replace

    from web import create_app

    settings = replace(database.settings(), secure_cookies=False)
    return create_app(settings, {**TEST_CONFIG, **config})


@pytest.fixture
def app(web_db: TestDatabase) -> Iterator[Flask]:
    application = make_app(web_db)
    yield application
    application.extensions["jessr.database"].close()


@pytest.fixture
def csrf_app(web_db: TestDatabase) -> Iterator[Flask]:
    application = make_app(web_db, WTF_CSRF_ENABLED=True)
    yield application
    application.extensions["jessr.database"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, email: str) -> None:
    """Sign ``client`` in as ``email`` without the form: a real server-side session for
    pages, and a real bearer token (sent on every request) for the API."""
    from engine import accounts

    app = client.application
    factory = app.extensions["jessr.database"].factory
    with factory() as s:
        user = accounts.find_user(s, email)
        assert user is not None, email
        token = accounts.start_session(s, user, "test")
        bearer = accounts.create_api_token(s, "test", email, name="test")
        s.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = token
        session["_fresh"] = True


@pytest.fixture
def signed_in(app: Flask, world: World) -> Any:
    """``signed_in("coordinator", side="own")`` → a client signed in as that account."""

    def make(role: str | None, side: str = "own") -> FlaskClient:
        client = app.test_client()
        if role is not None:
            sign_in(client, world.email(role, side))
        return client

    return make


@pytest.fixture
def pg_world(
    tmp_path: Path, postgres_server: Any, sqlite_template: Path
) -> Iterator[tuple[TestDatabase, World]]:
    """The world built on PostgreSQL (fresh per test; slower, for the key journeys)."""
    gen = _make_database("postgresql", tmp_path, postgres_server, sqlite_template, True)
    database = next(gen)
    try:
        yield database, build_world(database)
    finally:
        gen.close()
