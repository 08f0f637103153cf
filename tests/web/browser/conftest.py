"""Fixtures of the browser journeys: Playwright driving Debian's chromium against a
real ``jessr serve`` (gunicorn) over a copy of the world's database.

- The browser is ``$JESSR_CHROMIUM`` (default ``/usr/bin/chromium``), started by
  ``executable_path``: Playwright's own browser download is never used. Without
  that file the journeys are skipped, unless ``JESSR_REQUIRE_SERVICES=1`` (CI),
  where they fail.
- ``live_server``: one server for the session, over a copy of the world
  (``JESSR_SECURE_COOKIES=0``: plain HTTP on loopback). Journeys that change
  data, or sign in through the form many times, take their own with
  ``server_factory()`` (a fresh copy, a fresh rate-limit count: the login form
  allows 10 attempts a minute per address, 5 per account, counted per gunicorn
  worker — the session server signs in once per role, see ``role_states``).
- ``journey``: opens browser contexts (``journey.context(role, phone=True,
  lang="ar")``), signed in by the cookie that the real sign-in form gave
  (``role_states``); takes screenshots under ``$JESSR_ARTIFACTS`` (default
  ``out/test-artifacts/``), one folder per test, and a last one of every open
  page at the end of every journey, passed or failed; fails a journey in which
  a page broke the Content-Security-Policy or threw a script error (but for the
  known bugs listed in ``KNOWN_SCRIPT_ERRORS``, printed instead).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.platform.conftest import TEST_HOUSEHOLD_KEY, TEST_SECRET_KEY
from tests.web.live import ROOT, LiveServer, start_server
from tests.web.world import PASSWORD, World

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # never fetch a browser

playwright_api = pytest.importorskip("playwright.sync_api")

AXE = ROOT / "tests" / "web" / "assets" / "axe.min.js"
ROLES = ("admin", "coordinator", "staff", "volunteer")
# A phone held upright (an iPhone 12-14's CSS size), with touch.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
    ),
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
LOCALES = {"ar": "ar-TN", "fr": "fr-TN", "en": "en-GB"}
# Script errors that are known bugs outside these tests, reported (printed) rather
# than failing every journey; each entry names its bug and goes once it is fixed.
KNOWN_SCRIPT_ERRORS = {
    # Intermittent, on the volunteer's route page (a phone, reloaded): Leaflet's
    # unproject gets NaN from web/static/js/map.js's view of the route.
    "Invalid LatLng object: (NaN, NaN)": "map.js: the route map's view, intermittent",
}


def chromium_executable() -> str | None:
    """Debian's chromium (``$JESSR_CHROMIUM``), or None when it is not installed."""
    path = os.environ.get("JESSR_CHROMIUM") or "/usr/bin/chromium"
    return path if Path(path).is_file() and os.access(path, os.X_OK) else None


def artifacts_dir() -> Path:
    """Where screenshots go: ``$JESSR_ARTIFACTS`` or ``out/test-artifacts``."""
    return Path(os.environ.get("JESSR_ARTIFACTS") or ROOT / "out" / "test-artifacts")


# -- the browser


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = chromium_executable()
    if path is None:
        wanted = os.environ.get("JESSR_CHROMIUM") or "/usr/bin/chromium"
        if os.environ.get("JESSR_REQUIRE_SERVICES") == "1":
            pytest.fail(f"chromium required (JESSR_REQUIRE_SERVICES=1) but {wanted} is missing")
        pytest.skip(f"no chromium at {wanted} (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def playwright(chromium_path: str) -> Iterator[Any]:
    manager = playwright_api.sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Any, chromium_path: str) -> Iterator[Any]:
    # --no-sandbox: CI runs as root, where chromium refuses its sandbox.
    browser = playwright.chromium.launch(
        executable_path=chromium_path,
        headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage"],
    )
    try:
        yield browser
    finally:
        browser.close()


# -- the server


def server_env(database: Path) -> dict[str, str]:
    """``jessr serve``'s environment for the database file ``database``."""
    return {
        "JESSR_DATABASE_URL": f"sqlite:///{database}",
        "JESSR_HOUSEHOLD_KEY": TEST_HOUSEHOLD_KEY,
        "JESSR_SECRET_KEY": TEST_SECRET_KEY,
        "JESSR_ACTOR": "test",
        "JESSR_SECURE_COOKIES": "0",
    }


@dataclass
class WorldServer:
    """A live server over its own copy of the world's database."""

    server: LiveServer
    database: Path
    world: World

    @property
    def url(self) -> str:
        return self.server.url

    def engine(self) -> Any:
        """A SQLAlchemy engine on the server's database (to check what a journey did)."""
        from engine.db.session import make_engine

        return make_engine(f"sqlite:///{self.database}")

    def data_values(self) -> tuple[str, ...]:
        """The world's names and codes as pages show them, whatever the language
        (organizations, sites, volunteers, families, references, accounts)."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from engine.models import Organization, Request, Site, SupplyLot, User, Volunteer

        engine = self.engine()
        found: set[str] = set()
        try:
            with Session(engine) as s:
                for column in (
                    Organization.code,
                    Organization.name,
                    Site.code,
                    Site.name,
                    Volunteer.ref,
                    Volunteer.name,
                    Request.ref,
                    Request.name,
                    SupplyLot.ref,
                    User.email,
                ):
                    found.update(v for v in s.scalars(select(column)) if v)
        finally:
            engine.dispose()
        # Longest first: "Family crt 1" goes before "crt" when they are cut out.
        return tuple(sorted(found, key=len, reverse=True))


@pytest.fixture(scope="session")
def server_factory(
    tmp_path_factory: pytest.TempPathFactory,
    world_template: tuple[Path, World],
    chromium_path: str,
) -> Iterator[Callable[[], WorldServer]]:
    """``server_factory()`` → a new server over a fresh copy of the world (stopped at
    the end of the session)."""
    source, world = world_template
    started: list[WorldServer] = []

    def make() -> WorldServer:
        workdir = tmp_path_factory.mktemp("live")
        database = workdir / "var" / "jessr.db"
        database.parent.mkdir()
        shutil.copyfile(source, database)
        server = start_server(workdir, server_env(database), workers=2, threads=4)
        started.append(WorldServer(server, database, world))
        return started[-1]

    try:
        yield make
    finally:
        for item in started:
            item.server.stop()


@pytest.fixture(scope="session")
def live_server(server_factory: Callable[[], WorldServer]) -> WorldServer:
    """The session's server (journeys that only read)."""
    return server_factory()


@pytest.fixture(scope="session")
def flask_app(live_server: WorldServer) -> Iterator[Any]:
    """The app in-process over the live server's database: its URL map, for crawls."""
    from dataclasses import replace

    from engine.config import Settings
    from tests.web.conftest import TEST_CONFIG
    from web import create_app

    settings = Settings.from_env(server_env(live_server.database), cwd=live_server.database.parent)
    app = create_app(replace(settings, secure_cookies=False), TEST_CONFIG)
    yield app
    app.extensions["jessr.database"].close()


# -- signing in through the real form


def sign_in(page: Any, email: str, password: str = PASSWORD, lang: str = "en") -> None:
    """Fill in and send the sign-in form of ``/login``; wait to leave it."""
    page.goto(f"/login?lang={lang}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="session")
def role_states(browser: Any, live_server: WorldServer) -> dict[str, dict[str, Any]]:
    """Each role's cookies after signing in once through the form (storage states)."""
    states: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        context = browser.new_context(base_url=live_server.url, **DESKTOP)
        try:
            page = context.new_page()
            sign_in(page, live_server.world.email(role))
            states[role] = context.storage_state()
        finally:
            context.close()
    return states


# -- a journey: contexts, screenshots, page errors


@dataclass
class Journey:
    """The browser side of one test."""

    browser: Any
    server: WorldServer
    states: dict[str, dict[str, Any]]
    folder: Path
    contexts: list[Any] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    shots: int = 0

    def context(
        self,
        role: str | None = None,
        *,
        phone: bool = False,
        lang: str = "en",
        server: WorldServer | None = None,
        axe: bool = False,
        **options: Any,
    ) -> Any:
        """A new browser context: signed in as ``role`` (None: anonymous) on the session
        server, or anonymous on ``server``; a phone or a desktop; the browser's
        language ``lang``; ``axe`` injects axe-core into every page it opens."""
        target = server or self.server
        settings: dict[str, Any] = {**(PHONE if phone else DESKTOP), **options}
        settings.setdefault("locale", LOCALES[lang])
        if role is not None:
            if target is not self.server:
                raise ValueError("sign in on another server with sign_in(page, email)")
            settings["storage_state"] = self.states[role]
        context = self.browser.new_context(base_url=target.url, **settings)
        context.set_default_timeout(15_000)
        if axe:
            # An init script is injected by the browser itself (DevTools protocol), so
            # the page's CSP, which forbids inline scripts, stays fully in force.
            context.add_init_script(path=str(AXE))
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def page(self, role: str | None = None, **kwargs: Any) -> Any:
        """A new page in a new context (see :meth:`context`)."""
        return self.context(role, **kwargs).new_page()

    def _watch(self, page: Any) -> None:
        def console(message: Any) -> None:
            text = message.text
            if message.type == "error" and "Content Security Policy" in text:
                self.problems.append(f"{page.url}: CSP violation: {text}")

        def error(exc: Any) -> None:
            stack = " | ".join((getattr(exc, "stack", "") or "").splitlines()[1:14])
            message = f"{page.url}: script error: {exc} (at {stack})"
            if any(known in str(exc) for known in KNOWN_SCRIPT_ERRORS):
                self.known.append(message)  # reported, not failed: see KNOWN_SCRIPT_ERRORS
                return
            self.problems.append(message)

        page.on("console", console)
        page.on("pageerror", error)

    def shot(self, page: Any, name: str, full_page: bool = True) -> Path:
        """Save a screenshot of ``page`` as ``NN-name.png`` in the test's folder."""
        self.shots += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"
        path = self.folder / f"{self.shots:02d}-{safe}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        """A last screenshot of every open page, then close every context."""
        for index, context in enumerate(self.contexts):
            for number, page in enumerate(context.pages):
                try:
                    if not page.is_closed():
                        self.shot(page, f"end-context{index}-page{number}")
                except playwright_api.Error:
                    pass  # a page that cannot draw any more: its context goes anyway
            context.close()
        self.contexts.clear()


@pytest.fixture
def journey(
    request: pytest.FixtureRequest,
    browser: Any,
    live_server: WorldServer,
    role_states: dict[str, dict[str, Any]],
) -> Iterator[Journey]:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid.split("::", 1)[-1])
    folder = artifacts_dir() / "browser" / name
    if folder.exists():
        shutil.rmtree(folder)
    trip = Journey(browser, live_server, role_states, folder)
    try:
        yield trip
    finally:
        trip.close()
    for message in trip.known:
        print(f"known script error (KNOWN_SCRIPT_ERRORS): {message}")
    assert trip.problems == [], "\n".join(trip.problems)
