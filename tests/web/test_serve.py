"""``jessr serve``: a real gunicorn process, never Flask's development server.

On a migrated SQLite database it serves the sign-in page and a signed-in page
over HTTP on loopback (cookies not Secure there, so a browser keeps them); on
a database that was never migrated it exits 2 with one line. Each server is
stopped at the end of its test.
"""

from __future__ import annotations

import http.cookiejar
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.platform.conftest import TEST_HOUSEHOLD_KEY, TEST_SECRET_KEY
from tests.web.live import free_port, serve_environ, start_server
from tests.web.world import PASSWORD, World


def _env(database: Path) -> dict[str, str]:
    return {
        "JESSR_DATABASE_URL": f"sqlite:///{database}",
        "JESSR_HOUSEHOLD_KEY": TEST_HOUSEHOLD_KEY,
        "JESSR_SECRET_KEY": TEST_SECRET_KEY,
        "JESSR_ACTOR": "test",
    }


@pytest.mark.slow
def test_serve_answers_through_gunicorn(tmp_path: Path, world_template: tuple[Path, World]) -> None:
    source, world = world_template
    database = tmp_path / "var" / "jessr.db"
    database.parent.mkdir()
    shutil.copyfile(source, database)
    server = start_server(tmp_path, _env(database), workers=1, threads=2)
    try:
        with urllib.request.urlopen(server.url + "/login", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Server"].startswith("gunicorn")
            assert "Werkzeug" not in (response.headers["Server"] or "")
            assert "Content-Security-Policy" in response.headers
            page = response.read().decode()
        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"gunicorn" in cmdline and b"web.wsgi:app" in cmdline

        # Sign in through the form: the cookie works over plain HTTP on loopback.
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(server.url + "/login", timeout=10) as response:
            page = response.read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token
        form = urllib.parse.urlencode(
            {"email": world.email("coordinator"), "password": PASSWORD, "csrf_token": token[1]}
        ).encode()
        with opener.open(server.url + "/login", data=form, timeout=10) as response:
            assert response.status == 200
            assert response.url.endswith("/coordinator/")
            assert response.headers["Cache-Control"] == "no-store"
        cookie = next(c for c in jar if c.name == "jessr_session")
        assert not cookie.secure  # loopback: JESSR_SECURE_COOKIES defaults to 0
    finally:
        server.stop()
    assert server.process.returncode is not None


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = serve_environ(_env(tmp_path / "var" / "jessr.db"))
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "jessr db upgrade" in lines[0]
    assert done.stdout == ""
