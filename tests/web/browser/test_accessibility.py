"""axe-core on every page each role can open: no serious or critical violation.

The pages are generated from ``app.url_map``: every GET route outside the API
and the static files that the role's access rule admits, its URL arguments filled
with the world's own-organization ids (``tests/web/url_args.py``) — so a page
added by any blueprint is checked without editing this file. Answers that are
not HTML (a job's JSON progress) are passed over. Each page is
checked in English and in Arabic (right to left); the volunteer's on a phone.

axe-core (vendored, ``tests/web/assets/axe.min.js``) is injected as an *init
script* (``context.add_init_script``): the browser adds it to every document
through the DevTools protocol, which the page's Content-Security-Policy does not
govern, so the pages run under their real CSP (no ``bypass_csp``, which would
hide a page whose script or style the CSP blocks — the journey fixture fails on
any CSP violation) and no script tag is added to the page.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser.conftest import ROLES, Journey
from tests.web.routes import Route, page_routes

pytestmark = pytest.mark.slow

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
  }));
}"""
SERIOUS = ("serious", "critical")


def pages_of(flask_app: Any, world: Any, role: str | None) -> list[Route]:
    return [route for route in page_routes(flask_app, world) if route.admits(role)]


def check(page: Any, url: str) -> list[str] | None:
    """The serious and critical violations of the page at ``url`` (None: not HTML,
    such as a job's JSON progress, which no one reads as a page)."""
    response = page.goto(url)
    page.wait_for_load_state("load")
    status = response.status if response is not None else "?"
    kind = response.headers.get("content-type", "") if response is not None else ""
    if not kind.startswith("text/html"):
        return None
    assert page.evaluate("typeof axe") == "object", f"axe-core not injected in {url}"
    found = page.evaluate(RUN_AXE)
    return [
        f"{url} ({status}): {v['impact']} {v['id']}: {v['help']} at {v['targets']}"
        for v in found
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "anonymous")
def test_no_serious_accessibility_violation(
    journey: Journey, flask_app: Any, role: str | None
) -> None:
    world = journey.server.world
    routes = pages_of(flask_app, world, role)
    assert routes, f"no page for {role}"
    page = journey.context(role, axe=True, phone=role == "volunteer").new_page()
    problems: list[str] = []
    for lang in ("en", "ar"):
        for route in routes:
            joiner = "&" if "?" in route.url else "?"
            found = check(page, f"{route.url}{joiner}lang={lang}")
            if found is None:
                continue
            problems += found
            journey.shot(page, f"{lang}-{route.endpoint}")
    assert problems == [], "\n".join(problems)


def test_the_check_finds_a_violation(journey: Journey) -> None:
    """The control: a page with an unlabelled field and an image without text."""
    page = journey.context(axe=True).new_page()
    page.goto("/login")
    page.evaluate(
        """() => {
      document.querySelector('label[for=email]').remove();
      const img = document.createElement('img');
      img.src = '/static/does-not-matter.png';
      document.querySelector('main').appendChild(img);
    }"""
    )
    found = page.evaluate(RUN_AXE)
    assert {"label", "image-alt"} <= {v["id"] for v in found if v["impact"] in SERIOUS}
