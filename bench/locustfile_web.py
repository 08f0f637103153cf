"""Locust users of ``bench/web_load.py`` (run by it; not a test).

The harness writes a JSON file (``JESSR_BENCH_CONFIG``): the password, the day,
the volunteer and coordinator accounts, the coordinator pages. One ``Volunteer``
per volunteer account and one ``Coordinator`` per coordinator account
(``fixed_count``) each sign in through the real form (CSRF token included):

- a volunteer loads its route page once with its stylesheets and scripts (a
  browser's first visit; they are cached afterwards), then reopens the route
  page every 10–30 s (more often than a phone would: the page keeps itself
  offline and a volunteer marks a stop every few minutes);
- a coordinator walks the coordinator pages in turn, one every 5–15 s.

Two phases, one run. **Sign-in rush**: every user signs in at start (as
volunteers do in the morning) and makes its first visit; when the last one is
done, the statistics so far are written to ``CONFIG["signin_report"]`` and, 5 s
later (the requests queued behind the last ones drain), every statistic is reset.
**Steady state**: then ``CONFIG["duration"]`` seconds of route and coordinator
pages, after which locust stops; its CSV files hold this phase only.

A request answering anything but its expected status (a sign-in that does not
redirect, a page sending back to ``/login``) is a failure.

Each simulated user connects from a loopback address of its own (``127.0.x.y``;
Linux routes all of ``127.0.0.0/8`` to itself), as each phone has its own: the
sign-in form's limit per address (10 attempts a minute) then applies per user,
as in the field, rather than to the whole load at once.

Delivery marks: a volunteer marks its route's deliveries in order (each one
picked up, then each delivered) as its phone's script does — JSON to
``/volunteer/marks`` with the page's CSRF token in ``X-CSRFToken`` and a fresh
idempotency key — about once for every three route-page loads. Every fifth mark
of the run is sent a second time with the same key (a phone retrying after a lost answer):
the server must answer it as the first (``replayed``), never apply it twice.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter

CONFIG: dict[str, Any] = json.loads(Path(os.environ["JESSR_BENCH_CONFIG"]).read_text())
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ITEMS = re.compile(r'data-allocation="(\d+)" data-action="(pickup|delivery)" data-status="(\w+)"')
ASSETS = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="(/static/[^"]+)"')
_volunteers = itertools.cycle(CONFIG["volunteers"] or ["-"])
_coordinators = itertools.cycle(CONFIG["coordinators"] or ["-"])
_addresses = itertools.count()
_marks = itertools.count(1)  # every mark of the run, numbered: each fifth is resent
SETTLE_S = 5
EXPECTED = len(CONFIG["volunteers"]) + len(CONFIG["coordinators"])
_rush: dict[str, Any] = {"signed": 0, "first": None, "environment": None}


@events.init.add_listener
def _keep_environment(environment: Any, **_kwargs: Any) -> None:
    _rush["environment"] = environment


def _signed_in() -> None:
    """One more user signed in and past its first visit; after the last, report the
    rush and reset."""
    _rush["signed"] += 1
    if _rush["signed"] != EXPECTED:
        return
    environment = _rush["environment"]
    report = {
        "users": EXPECTED,
        "seconds": time.monotonic() - (_rush["first"] or time.monotonic()),
        "requests": {},
    }
    for (name, method), entry in environment.runner.stats.entries.items():
        report["requests"][name] = {
            "method": method,
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
        }
    Path(CONFIG["signin_report"]).write_text(json.dumps(report))

    def steady() -> None:
        environment.runner.stats.reset_all()
        gevent.spawn_later(CONFIG["duration"], environment.runner.quit)

    # A few seconds for the requests queued behind the last sign-ins to drain.
    gevent.spawn_later(SETTLE_S, steady)


class SourceAddress(HTTPAdapter):
    """Connections from a given local address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def own_address(user: HttpUser) -> None:
    """Give ``user`` a loopback address of its own (127.0.1.2, 127.0.1.3, …)."""
    n = next(_addresses)
    user.client.mount("http://", SourceAddress(f"127.0.{1 + n // 250}.{2 + n % 250}"))


def _why(response: Any) -> str:
    """The status, or the connection error behind a status 0."""
    if response.status_code == 0:
        return f"no answer ({type(response.error).__name__}: {response.error})"
    return str(response.status_code)


def sign_in(user: HttpUser, email: str) -> None:
    """GET /login for its token, POST the form; a failure unless it redirects."""
    if _rush["first"] is None:
        _rush["first"] = time.monotonic()
    page = user.client.get("/login", name="GET /login")
    found = TOKEN.search(page.text or "")
    form = {"email": email, "password": CONFIG["password"], "csrf_token": found[1] if found else ""}
    with user.client.post(
        "/login",
        data=form,
        name="POST /login (sign in)",
        allow_redirects=False,
        catch_response=True,
    ) as response:
        if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
            response.failure(f"sign-in of {email} answered {_why(response)}")


class Volunteer(HttpUser):
    """A volunteer with its route of the day open on a phone."""

    fixed_count = len(CONFIG["volunteers"])
    wait_time = between(10, 30)

    def on_start(self) -> None:
        own_address(self)
        self.email = next(_volunteers)
        sign_in(self, self.email)
        page = self._route()
        for asset in sorted(set(ASSETS.findall(page))):  # the first visit's files
            self.client.get(asset, name="GET /static/… (first visit)")
        self.marks = self._plan_marks(page)
        _signed_in()

    def _plan_marks(self, page: str) -> list[tuple[str, int]]:
        """The marks the route calls for, in the order a volunteer makes them."""
        found = CSRF_META.search(page)
        self.csrf = found[1] if found else ""
        planned = sorted(
            {
                int(a)
                for a, action, status in ITEMS.findall(page)
                if action == "pickup" and status == "planned"
            }
        )
        return [("picked_up", a) for a in planned] + [("delivered", a) for a in planned]

    def _route(self) -> str:
        with self.client.get(
            f"/volunteer/?date={CONFIG['date']}",
            name="GET /volunteer/ (route page)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"route page answered {_why(response)}")
            return response.text or ""

    @task(3)
    def route(self) -> None:
        self._route()

    @task(1)
    def mark(self) -> None:
        if not self.marks or not self.csrf:
            return  # a route with nothing left to mark (or a page without marks)
        kind, allocation = self.marks.pop(0)
        body = {
            "allocation": allocation,
            "kind": kind,
            "idempotency_key": str(uuid.uuid4()),
            "date": CONFIG["date"],
        }
        tries = [("POST /volunteer/marks (mark)", False)]
        if next(_marks) % 5 == 0:
            tries.append(("POST /volunteer/marks (same key again)", True))
        for name, replay in tries:
            with self.client.post(
                "/volunteer/marks",
                json=body,
                headers={"X-CSRFToken": self.csrf},
                name=name,
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{kind} of {allocation} answered {_why(response)}")
                elif bool(response.json().get("replayed")) != replay:
                    response.failure(f"{kind} of {allocation}: replayed should be {replay}")


class Coordinator(HttpUser):
    """A coordinator going through the coordinator pages."""

    fixed_count = len(CONFIG["coordinators"])
    wait_time = between(5, 15)

    def on_start(self) -> None:
        own_address(self)
        sign_in(self, next(_coordinators))
        self.pages = itertools.cycle(CONFIG["coordinator_pages"] or ["/coordinator/"])
        _signed_in()

    @task
    def page(self) -> None:
        url = next(self.pages)
        with self.client.get(
            url, name=f"GET {url}", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{url} answered {_why(response)}")
