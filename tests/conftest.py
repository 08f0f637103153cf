"""Fixtures shared across test packages: the database servers of the platform tests
(:mod:`tests.platform.conftest`), for the web tests."""

from tests.platform.conftest import postgres_server, sqlite_template  # noqa: F401
