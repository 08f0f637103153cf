"""Whole journeys through the pages, as each kind of user makes them, checked
against the database the server writes.

Each journey that changes data runs on a server of its own
(``server_factory()``: a fresh copy of the world) and signs in through the form.
The pages are found by their stable hooks, which their blueprints keep:

- admin imports: ``#import-form`` (kind select ``name=kind``, a file input),
  ``#import-errors`` (the rows refused), ``#import-commit`` (the form applying it);
- the coordinator's batch: a page of ``/coordinator/`` holds ``form.run-form``
  (the day's batch: ``name=date``, ``name=iterations``), its job page
  ``#job-review-link`` once the draft is made, the draft's review page
  ``form.publish``;
- the volunteer's route ``/volunteer/?date=D``: ``[data-allocation]`` items,
  ``button[data-mark="delivered"]`` (and the pick-up mark), ``#sync-status``
  (``data-state``: ``pending``/``offline`` while a mark waits to be sent).

A journey whose page is not in the app yet is skipped, naming what it waits
for; ``JESSR_REQUIRE_JOURNEYS=1`` turns those skips into failures (set it once
every page is merged). A new journey: a test taking ``journey`` (and
``server_factory`` if it writes), ``journey.shot(page, name)`` at each step.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import accounts
from engine.models.batches import Allocation, Batch
from engine.models.deliveries import Delivery
from engine.models.requests import Request
from tests.web.browser.conftest import Journey, WorldServer, sign_in
from tests.web.browser.language import untranslated, visible_texts
from tests.web.world import DAY, NEXT_DAY, TUNIS

pytestmark = pytest.mark.slow


def waiting_for(what: str) -> None:
    """Skip: the page this journey needs is not there yet (fail if it must be)."""
    if os.environ.get("JESSR_REQUIRE_JOURNEYS") == "1":
        pytest.fail(f"JESSR_REQUIRE_JOURNEYS=1 but the app lacks {what}")
    pytest.skip(f"waiting for {what}")


def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``check`` until it returns a true value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout:.0f} s: {what or check}")
        time.sleep(0.25)


def accept_dialogs(page: Any) -> None:
    """Confirm any "are you sure?" a page asks."""
    page.on("dialog", lambda dialog: dialog.accept())


# -- what the current pages allow


def test_a_volunteer_signs_in_on_a_phone_with_a_one_time_link(
    journey: Journey, server_factory: Callable[[], WorldServer]
) -> None:
    server = server_factory()
    engine = server.engine()
    try:
        with Session(engine) as s:
            coordinator = accounts.find_user(s, server.world.email("coordinator"))
            volunteer = accounts.find_user(s, server.world.email("volunteer"))
            assert coordinator is not None and volunteer is not None
            token = accounts.create_login_link(s, accounts.actor_of(coordinator), volunteer)
            s.commit()
    finally:
        engine.dispose()
    page = journey.page(server=server, phone=True, lang="ar")
    page.goto(f"/login/link/{token}?lang=ar")
    journey.shot(page, "link")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert untranslated(visible_texts(page), "ar", server.data_values()) == []
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url("**/volunteer/")
    journey.shot(page, "route")
    # The link is spent: opening it again signs nobody in.
    other = journey.page(server=server, phone=True, lang="ar")
    other.goto(f"/login/link/{token}?lang=ar")
    with other.expect_navigation():
        other.locator("main form button[type=submit]").tap()
    assert other.locator(".flash-error").count() == 1
    assert untranslated(visible_texts(other), "ar", server.data_values()) == []
    journey.shot(other, "spent")
    other.goto("/volunteer/")
    assert "/login" in other.url


def test_a_page_outside_the_role_answers_refused_in_the_users_language(
    journey: Journey,
) -> None:
    page = journey.page("volunteer", phone=True)
    response = page.goto("/admin/?lang=ar")
    assert response is not None and response.status == 403
    assert page.locator(".error-page").count() == 1
    assert untranslated(visible_texts(page), "ar", journey.server.data_values()) == []
    journey.shot(page, "refused")


def test_a_disabled_account_is_signed_out_while_browsing(
    journey: Journey, server_factory: Callable[[], WorldServer]
) -> None:
    server = server_factory()
    page = journey.page(server=server)
    sign_in(page, server.world.email("staff"))
    journey.shot(page, "signed-in")
    engine = server.engine()
    try:
        with Session(engine) as s:
            from engine.access import system_actor

            user = accounts.find_user(s, server.world.email("staff"))
            assert user is not None
            accounts.set_active(s, system_actor("test"), user.id, False)
            s.commit()
    finally:
        engine.dispose()
    page.reload()
    assert "/login" in page.url
    journey.shot(page, "signed-out")


# -- the admin: an import with an error, then fixed


def _requests_file(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["org", "ref", "household", "category", "quantity", "priority", "region"]
    columns += ["lat", "lon", "phone", "name"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _request_row(i: int, quantity: str = "1") -> dict[str, str]:
    return {
        "org": "crt",
        "ref": f"WEB{i}",
        "household": f"web-household-{i}",
        "category": "food.basket",
        "quantity": quantity,
        "priority": "2",
        "region": "TN-11",
        "lat": f"{TUNIS[0] + 0.002 * i:.5f}",
        "lon": f"{TUNIS[1] + 0.002 * i:.5f}",
        "phone": f"+216 21 000 00{i}",
        "name": f"Web family {i}",
    }


def _find_page(journey: Journey, flask_app: Any, role: str, prefix: str, hook: str) -> str | None:
    """The first GET page without arguments under ``prefix`` whose page has ``hook``."""
    from tests.web.routes import page_routes

    app = flask_app
    page = journey.page(role)
    try:
        for route in page_routes(app, journey.server.world):
            if not route.url.startswith(prefix) or route.rule.arguments:
                continue
            if not route.admits(role):
                continue
            page.goto(route.url)
            if page.locator(hook).count():
                return route.url
        return None
    finally:
        page.context.close()
        journey.contexts.remove(page.context)


def test_an_admin_uploads_a_file_with_an_error_then_the_fixed_file(
    journey: Journey, server_factory: Callable[[], WorldServer], flask_app: Any, tmp_path: Path
) -> None:
    url = _find_page(journey, flask_app, "admin", "/admin/", "#import-form")
    if url is None:
        waiting_for("the admin import page (#import-form)")
    server = server_factory()
    page = journey.page(server=server)
    accept_dialogs(page)
    sign_in(page, server.world.email("admin"))
    engine = server.engine()

    def count() -> int:
        with Session(engine) as s:
            return int(s.scalar(select(func.count()).select_from(Request)) or 0)

    try:
        before = count()
        bad = _requests_file(
            tmp_path / "requests.csv", [_request_row(1), _request_row(2, quantity="-3")]
        )
        page.goto(str(url))
        form = page.locator("#import-form")
        if form.locator("select[name=kind]").count():
            form.locator("select[name=kind]").select_option("requests")
        form.locator("input[type=file]").set_input_files(str(bad))
        journey.shot(page, "bad-file-chosen")
        form.locator("button[type=submit]").click()
        errors = page.locator("#import-errors")
        errors.wait_for()
        assert "3" in errors.inner_text()  # the refused row: line 3 of the file
        journey.shot(page, "errors-shown")
        assert count() == before  # nothing written

        good = _requests_file(tmp_path / "requests.csv", [_request_row(1), _request_row(2)])
        page.goto(str(url))
        form = page.locator("#import-form")
        if form.locator("select[name=kind]").count():
            form.locator("select[name=kind]").select_option("requests")
        form.locator("input[type=file]").set_input_files(str(good))
        form.locator("button[type=submit]").click()
        commit = page.locator("#import-commit")
        commit.wait_for()
        assert page.locator("#import-errors").count() == 0
        journey.shot(page, "preview")
        assert count() == before  # a preview writes nothing
        commit.locator("button[type=submit]").click()
        eventually(lambda: count() == before + 2, 60, "the two requests stored")
        journey.shot(page, "applied")
    finally:
        engine.dispose()


# -- the coordinator: run the day's batch, review the draft, publish it


def test_a_coordinator_runs_reviews_and_publishes_a_batch(
    journey: Journey, server_factory: Callable[[], WorldServer], flask_app: Any
) -> None:
    url = _find_page(journey, flask_app, "coordinator", "/coordinator/", "form.run-form")
    if url is None:
        waiting_for("the coordinator's batch run form (form.run-form)")
    server = server_factory()
    page = journey.page(server=server)
    accept_dialogs(page)
    sign_in(page, server.world.email("coordinator"))
    day = NEXT_DAY.fromordinal(NEXT_DAY.toordinal() + 1)
    engine = server.engine()

    def batch_of(status: str) -> int | None:
        with Session(engine) as s:
            return s.scalar(select(Batch.id).where(Batch.date == day, Batch.status == status))

    try:
        page.goto(str(url))
        form = page.locator("form.run-form").first
        form.locator("input[name=date]").fill(day.isoformat())
        iterations = form.locator("input[name=iterations]")
        if iterations.count():
            iterations.fill("50")  # a small day: the journey, not the solver, is tested
        journey.shot(page, "run-form")
        form.locator("button[type=submit]").click()
        journey.shot(page, "running")
        draft = eventually(lambda: batch_of("draft"), 180, f"a draft batch of {day}")
        review = page.locator("#job-review-link")
        review.wait_for(timeout=60_000)  # the job page offers the review when done
        journey.shot(page, "job-done")
        review.click()
        publish = page.locator("form.publish")
        publish.wait_for()
        journey.shot(page, "review")
        assert batch_of("published") is None
        publish.locator("button[type=submit]").click()
        eventually(lambda: batch_of("published") == draft, 30, f"batch {draft} published")
        journey.shot(page, "published")
    finally:
        engine.dispose()


# -- the volunteer, on a phone: a mark made offline arrives once


def _allocation_id(engine: Any, value: str, batch: int) -> int:
    """The allocation a ``data-allocation`` value names (an id, BATCH/A7 or A7)."""
    if value.isdigit():
        return int(value)
    plan_id = value.rsplit("/", 1)[-1]
    with Session(engine) as s:
        found = s.scalar(
            select(Allocation.id).where(Allocation.batch_id == batch, Allocation.plan_id == plan_id)
        )
    assert found is not None, value
    return int(found)


def test_a_volunteer_marks_a_delivery_offline_and_it_arrives_once(
    journey: Journey, server_factory: Callable[[], WorldServer]
) -> None:
    server = server_factory()
    context = journey.context(server=server, phone=True)
    page = context.new_page()
    accept_dialogs(page)
    sign_in(page, server.world.email("volunteer"))
    page.goto(f"/volunteer/?date={DAY.isoformat()}")
    deliver = page.locator('[data-allocation]:has(button[data-mark="delivered"])')
    if deliver.count() == 0:
        waiting_for('the volunteer route page ([data-allocation], button[data-mark="delivered"])')
    journey.shot(page, "route")
    engine = server.engine()

    def status(allocation: int) -> str | None:
        with Session(engine) as s:
            return s.scalar(select(Allocation.status).where(Allocation.id == allocation))

    def delivered(allocation: int) -> int:
        with Session(engine) as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.allocation_id == allocation, Delivery.kind == "delivered")
                )
                or 0
            )

    try:
        value = str(deliver.first.get_attribute("data-allocation"))
        allocation = _allocation_id(engine, value, server.world.published_batch)
        same = f'[data-allocation="{value}"]'
        pickup = page.locator(
            f'{same} button[data-mark^="picked"], button{same}[data-mark^="picked"]'
        )
        if status(allocation) == "planned" and pickup.count():
            pickup.first.tap()
            eventually(lambda: status(allocation) == "picked_up", 30, "the pick-up recorded")
            journey.shot(page, "picked-up")

        context.set_offline(True)
        page.locator(f'{same} button[data-mark="delivered"]').first.tap()
        page.wait_for_function(
            """() => {
              const s = document.getElementById('sync-status');
              return s && ['pending', 'offline'].includes(s.dataset.state);
            }"""
        )
        journey.shot(page, "offline-waiting")
        time.sleep(1)
        assert delivered(allocation) == 0  # no connection: nothing could arrive

        context.set_offline(False)
        eventually(lambda: delivered(allocation) >= 1, 60, "the offline mark sent")
        journey.shot(page, "back-online")
        page.reload()
        page.wait_for_load_state("load")
        time.sleep(2)  # a queue that resent at load would show here
        assert delivered(allocation) == 1
        assert status(allocation) == "delivered"
        journey.shot(page, "delivered")
    finally:
        engine.dispose()
