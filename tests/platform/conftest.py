"""Fixtures of the platform tests: a fresh, migrated database per test, on SQLite and
PostgreSQL, and the ``jessr`` command line run in-process against it.

PostgreSQL: ``JESSR_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) names a server and a database to
connect to for administration; the session creates ``jessr_test_<random>``,
migrates it once, and every test starts from a working copy of it reset to the
template's rows (see :class:`PostgresServer`); the databases are dropped at the
end. Without a reachable server the PostgreSQL cases are skipped,
unless ``JESSR_REQUIRE_SERVICES=1`` (CI), where they fail.

SQLite: the session migrates one file; each test gets a copy in its own tmp dir.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import engine.models  # noqa: F401  (every table on Base.metadata)
from engine.config import Settings
from engine.db.base import Base
from engine.db.migrate import upgrade_database
from engine.db.session import make_engine

POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
# Fixed keys: tests must not depend on (or write) key files unless they test them.
TEST_HOUSEHOLD_KEY = "test-household-key"
TEST_SECRET_KEY = "test-secret-key"


def postgres_admin_url() -> str:
    """The server the PostgreSQL cases use (``JESSR_TEST_POSTGRES_URL``)."""
    url = os.environ.get("JESSR_TEST_POSTGRES_URL") or POSTGRES_DEFAULT
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


def services_required() -> bool:
    """True when missing services must fail the run rather than skip (CI)."""
    return os.environ.get("JESSR_REQUIRE_SERVICES") == "1"


@dataclass
class CliResult:
    """What one ``jessr`` run returned and printed."""

    code: int
    out: str
    err: str


@dataclass
class TestDatabase:
    """A fresh database for one test: its URL, an engine, sessions, the CLI on it."""

    __test__ = False  # not a test class, despite the name

    kind: str  # "sqlite" or "postgresql"
    url: str
    workdir: Path  # the working directory of CLI runs (var/ lives here)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """An engine on this database (created on first use, disposed after the test)."""
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    def session(self) -> Session:
        """A new session (use as ``with database.session() as s:``; commit yourself)."""
        return Session(self.engine, expire_on_commit=False)

    def env(self) -> dict[str, str]:
        """Environment variables pointing a ``jessr`` process at this database."""
        return {
            "JESSR_DATABASE_URL": self.url,
            "JESSR_HOUSEHOLD_KEY": TEST_HOUSEHOLD_KEY,
            "JESSR_SECRET_KEY": TEST_SECRET_KEY,
            "JESSR_ACTOR": "test",
        }

    def settings(self) -> Settings:
        """The settings a command would read in this test's environment."""
        return Settings.from_env(self.env(), cwd=self.workdir)

    def cli(self, *args: str, stdin: str = "") -> CliResult:
        """Run ``jessr ARGS`` in-process (``engine.cli.main``) against this database."""
        from engine.cli import main

        out, err = io.StringIO(), io.StringIO()
        saved_env = {k: os.environ.get(k) for k in self.env()}
        saved_cwd, saved_stdin = os.getcwd(), sys.stdin
        os.environ.update(self.env())
        os.chdir(self.workdir)
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(list(args))
                except SystemExit as exc:  # argparse usage errors
                    code = exc.code if isinstance(exc.code, int) else 2
        finally:
            sys.stdin = saved_stdin
            os.chdir(saved_cwd)
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return CliResult(code, out.getvalue(), err.getvalue())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class PostgresServer:
    """The test server: a migrated template database, and two working databases reset
    between tests (cheaper than a ``CREATE DATABASE`` per test, which costs about a
    second on a busy machine).

    - ``work``: a copy of the template; reset by truncating every table and putting
      back the template's rows (regions, categories, the seed event and the chain
      head), with the archive's guards bypassed as the superuser may
      (``session_replication_role = replica``). A test that changed the schema (a
      downgrade) gets a new copy instead.
    - ``empty``: a never-migrated database; reset by recreating its schema.
    """

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"jessr_test_{secrets.token_hex(4)}"
        self.template = self.prefix
        self.work = f"{self.prefix}_work"
        self.empty = f"{self.prefix}_empty"
        self.snapshot: dict[str, list[dict[str, object]]] = {}
        self.tables: set[str] = set()

    def url_of(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(False)

    def _admin(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def start(self) -> None:
        """Create and migrate the template, take its rows, make the working copies."""
        self._admin(f'CREATE DATABASE "{self.template}" TEMPLATE template0')
        settings = Settings.from_env(
            {"JESSR_DATABASE_URL": self.url_of(self.template), "JESSR_ACTOR": "test"},
            cwd=Path.cwd(),
        )
        upgrade_database(settings)
        engine = create_engine(self.url_of(self.template))
        try:
            with engine.connect() as conn:
                self.tables = set(inspect(conn).get_table_names())
                for table in Base.metadata.sorted_tables:
                    rows = conn.execute(table.select()).mappings().all()
                    self.snapshot[table.name] = [dict(r) for r in rows]
                self.revision = conn.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar_one()
        finally:
            engine.dispose()
        self._admin(f'CREATE DATABASE "{self.work}" TEMPLATE "{self.template}"')
        self._admin(f'CREATE DATABASE "{self.empty}" TEMPLATE template0')

    def reset_work(self) -> str:
        """The working database, as the template left it; returns its name."""
        engine = create_engine(self.url_of(self.work))
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                if set(inspect(conn).get_table_names()) != self.tables:
                    raise LookupError("schema changed")
                # DELETE, not TRUNCATE: on tables this small it avoids new files and
                # their fsyncs (half a second per test).
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
                    for column in table.primary_key.columns:
                        sequence = conn.execute(
                            text("SELECT pg_get_serial_sequence(:t, :c)"),
                            {"t": table.name, "c": column.name},
                        ).scalar()
                        if sequence is not None:  # ids start at 1 again, as in a new database
                            conn.execute(text("SELECT setval(:s, 1, false)"), {"s": sequence})
                for table in Base.metadata.sorted_tables:
                    if self.snapshot[table.name]:
                        conn.execute(table.insert(), self.snapshot[table.name])
                conn.execute(text("DELETE FROM alembic_version"))
                conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": self.revision})
        except (LookupError, DBAPIError):
            engine.dispose()
            self._admin(f'DROP DATABASE IF EXISTS "{self.work}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.work}" TEMPLATE "{self.template}"')
        finally:
            engine.dispose()
        return self.work

    def reset_empty(self) -> str:
        """The never-migrated database, emptied again; returns its name."""
        engine = create_engine(self.url_of(self.empty))
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        except DBAPIError:
            engine.dispose()
            self._admin(f'DROP DATABASE IF EXISTS "{self.empty}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.empty}" TEMPLATE template0')
        finally:
            engine.dispose()
        return self.empty

    def stop(self) -> None:
        for name in (self.work, self.empty, self.template):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    """The PostgreSQL test server with its migrated template, or None if unreachable."""
    url = postgres_admin_url()
    try:
        server = PostgresServer(url)
        with server.admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server means "no PostgreSQL"
        if services_required():
            pytest.fail(f"PostgreSQL required (JESSR_REQUIRE_SERVICES=1) but unreachable: {exc}")
        yield None
        return
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    base = tmp_path_factory.mktemp("sqlite-template")
    path = base / "jessr.db"
    upgrade_database(
        Settings.from_env(
            {"JESSR_DATABASE_URL": f"sqlite:///{path}", "JESSR_ACTOR": "test"}, cwd=base
        )
    )
    return path


def _make_database(
    kind: str,
    tmp_path: Path,
    postgres_server: PostgresServer | None,
    sqlite_template: Path | None,
    migrated: bool,
) -> Iterator[TestDatabase]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    if kind == "sqlite":
        path = workdir / "var" / "jessr.db"
        if migrated:
            assert sqlite_template is not None
            path.parent.mkdir()
            shutil.copyfile(sqlite_template, path)
        db = TestDatabase("sqlite", f"sqlite:///{path}", workdir)
        try:
            yield db
        finally:
            db.close()
        return
    if postgres_server is None:
        pytest.skip("PostgreSQL unreachable (set JESSR_TEST_POSTGRES_URL)")
    name = postgres_server.reset_work() if migrated else postgres_server.reset_empty()
    db = TestDatabase("postgresql", postgres_server.url_of(name), workdir)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_server: PostgresServer | None,
    sqlite_template: Path,
) -> Iterator[TestDatabase]:
    """A fresh database at the head revision (regions and categories seeded)."""
    yield from _make_database(request.param, tmp_path, postgres_server, sqlite_template, True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer | None
) -> Iterator[TestDatabase]:
    """A database never migrated (SQLite: no file yet; PostgreSQL: an empty database)."""
    yield from _make_database(request.param, tmp_path, postgres_server, None, False)
