"""Signing in and out in each language, through the real form of a real server.

English on a desktop as a coordinator, French as an admin, Arabic on a phone as a
volunteer: the page declares its language (``lang``, and ``dir="rtl"`` for
Arabic), the language chosen on the sign-in page stays after signing in and out,
and no English string is left on a French or Arabic page (Arabic: no Latin
letter at all but data values; :mod:`tests.web.browser.language`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.web.browser.conftest import Journey, WorldServer, sign_in
from tests.web.browser.language import untranslated, visible_texts
from tests.web.world import PASSWORD

HOMES = {"coordinator": "/coordinator/", "admin": "/admin/", "volunteer": "/volunteer/"}
CASES = [("en", "coordinator", False), ("fr", "admin", False), ("ar", "volunteer", True)]


@pytest.fixture(scope="module")
def signin_server(server_factory: Callable[[], WorldServer]) -> WorldServer:
    """A server of this module's own: these journeys sign in through the form often."""
    return server_factory()


def check_page(page: Any, lang: str, names: tuple[str, ...] = ()) -> None:
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    problems = untranslated(visible_texts(page), lang, names)
    assert problems == [], f"{page.url}:\n" + "\n".join(problems)


@pytest.mark.parametrize(("lang", "role", "phone"), CASES, ids=[c[0] for c in CASES])
def test_sign_in_and_out(
    journey: Journey, signin_server: WorldServer, lang: str, role: str, phone: bool
) -> None:
    email = signin_server.world.email(role)
    page = journey.page(server=signin_server, phone=phone, lang="en")
    page.goto(f"/login?lang={lang}")
    check_page(page, lang)
    journey.shot(page, f"{lang}-login")

    page.fill("#email", email)
    page.fill("#password", "not-the-password")
    page.locator("main form button[type=submit]").click()
    error = page.locator(".flash-error")
    error.wait_for()
    check_page(page, lang)
    journey.shot(page, f"{lang}-wrong-password")

    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**{HOMES[role]}")
    check_page(page, lang, names=signin_server.data_values())
    journey.shot(page, f"{lang}-home")

    page.locator("form.logout button[type=submit]").click()
    page.wait_for_url("**/login")
    assert page.locator(".flash").count() == 1
    check_page(page, lang)
    journey.shot(page, f"{lang}-signed-out")
    # Signed out for real: the home page now sends back to the sign-in page.
    page.goto(HOMES[role])
    assert "/login" in page.url


def test_a_language_switch_is_kept_while_browsing(
    journey: Journey, signin_server: WorldServer
) -> None:
    page = journey.page(server=signin_server, lang="en")
    sign_in(page, signin_server.world.email("staff"))
    page.locator(".languages a[hreflang=fr]").click()
    page.wait_for_url("**lang=fr")
    check_page(page, "fr", names=signin_server.data_values())
    page.goto("/coordinator/")  # no ?lang: the choice is remembered
    assert page.locator("html").get_attribute("lang") == "fr"
    page.locator(".languages a[hreflang=ar]").click()
    page.wait_for_url("**lang=ar")
    check_page(page, "ar", names=signin_server.data_values())
    journey.shot(page, "ar")


def test_a_page_asked_for_before_signing_in_opens_after_it(
    journey: Journey, signin_server: WorldServer
) -> None:
    page = journey.page(server=signin_server)
    page.goto("/coordinator/batches/")
    assert "/login?next=" in page.url
    page.fill("#email", signin_server.world.email("coordinator"))
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/coordinator/batches/")
    journey.shot(page, "after-sign-in")
