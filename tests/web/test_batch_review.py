"""The history and the review of a batch: figures equal to an independent
recomputation from the stored plan and scenario, accessible SVG charts, the
unmet list's filters, the routes map, no inline style."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date
from html import unescape
from typing import Any

import pytest

from engine import review as reviews
from engine.access import Actor
from engine.models import Batch
from tests.platform.conftest import TestDatabase
from tests.web.batch_helpers import BATCHES, add_requests, fresh_draft
from tests.web.world import World

ADMIN = Actor("admin@example.org", "admin", user_id=1)


def independent_figures(scenario: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """Need, allocated and delivered value by priority and region, from the raw
    documents and the exchange format's definitions only."""
    day = date.fromisoformat(scenario["date"])
    weights = {int(k): v for k, v in scenario["policy"]["priority_weights"].items()}
    requests = {r["id"]: r for r in scenario["requests"]}

    def w(r: dict[str, Any]) -> float:
        age = (day - date.fromisoformat(r.get("filed", scenario["date"]))).days
        return weights[r["priority"]] * (1 + 0.01 * min(max(age, 0), 30))

    carried = set()
    for route in plan["routes"]:
        picked: dict[str, int] = {}
        for index, visit in enumerate(route["visits"]):
            for aid in visit["pickups"]:
                picked[aid] = index
            for aid in visit["deliveries"]:
                if aid in picked and picked[aid] < index:
                    carried.add(aid)
    figures: dict[str, dict[Any, list[float]]] = {
        "priority": defaultdict(lambda: [0.0, 0.0, 0.0]),
        "region": defaultdict(lambda: [0.0, 0.0, 0.0]),
    }
    for r in scenario["requests"]:
        figures["priority"][r["priority"]][0] += w(r) * r["quantity"]
        figures["region"][r["region"]][0] += w(r) * r["quantity"]
    for a in plan["allocations"]:
        r = requests[a["request"]]
        value = w(r) * a["quantity"]
        for kind, key in (("priority", r["priority"]), ("region", r["region"])):
            figures[kind][key][1] += value
            if a["id"] in carried:
                figures[kind][key][2] += value
    return figures


def _stored(database: TestDatabase, batch_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with database.session() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None
        return json.loads(batch.scenario), json.loads(batch.plan)


@pytest.mark.parametrize("which", ["published", "draft"])
def test_review_figures_equal_an_independent_recomputation(
    web_db: TestDatabase, world: World, which: str
) -> None:
    if which == "draft":
        add_requests(web_db, 6, priority=5)
        add_requests(web_db, 3, org="utss", region="TN-61", prefix="Y", priority=2)
        add_requests(web_db, 2, category="food.flour", prefix="F")  # no flour: unmet
        batch_id = fresh_draft(web_db)
    else:
        batch_id = world.published_batch
    scenario, plan = _stored(web_db, batch_id)
    expected = independent_figures(scenario, plan)
    with web_db.session() as s:
        got = reviews.review(s, batch_id, ADMIN)
    by_priority = {int(b.key): [b.need, b.allocated, b.delivered] for b in got.by_priority}
    by_region = {b.key: [b.need, b.allocated, b.delivered] for b in got.by_region}
    assert by_priority.keys() == expected["priority"].keys()
    assert by_region.keys() == expected["region"].keys()
    for p, values in expected["priority"].items():
        assert by_priority[p] == pytest.approx(values)
    for g, values in expected["region"].items():
        assert by_region[g] == pytest.approx(values)
    assert got.totals.delivered == pytest.approx(plan["metrics"]["delivered_value"])
    assert got.totals.allocated == pytest.approx(plan["metrics"]["allocated_value"])
    assert got.unmet.total == len(plan["unmet"])
    assert [(u.request, u.quantity, u.reason) for u in got.unmet.rows] == sorted(
        ((u["request"], u["quantity"], u["reason"]) for u in plan["unmet"]),
        key=lambda u: (-next(r["priority"] for r in scenario["requests"] if r["id"] == u[0]), u[0]),
    )
    unrouted = {u["allocation"]: u["reason"] for u in plan["unrouted"]}
    assert {(a.id, a.reason) for a in got.collection} == set(unrouted.items())
    assert len(got.routes) == len(plan["routes"])
    if which == "draft":
        assert got.unmet.total >= 2 and {u.reason for u in got.unmet.rows} >= {"no_supply"}


def test_the_review_page_shows_charts_routes_and_lists(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    scenario, plan = _stored(web_db, world.published_batch)
    response = signed_in("coordinator").get(f"{BATCHES}/{world.published_batch}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert " style=" not in html and "<style" not in html  # the CSP forbids inline styles
    for chart in ("by-priority", "by-region"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html
    assert html.count('<g class="row">') == len(
        {r["priority"] for r in scenario["requests"]}
    ) + len({r["region"] for r in scenario["requests"]})
    assert "Delivered share" in html  # the figures as a table beside the chart
    data = json.loads(
        unescape(re.search(r'id="routes-map-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    )
    assert len(data["lines"]) == len(plan["routes"])
    numbered = [s for s in data["stops"] if s.get("order")]
    assert len(numbered) == sum(len(r["visits"]) for r in plan["routes"])
    for route, line in zip(plan["routes"], data["lines"], strict=True):
        assert line["label"] == route["volunteer"]
        assert len(line["points"]) == len(route["visits"]) + 2  # home, visits, home
    assert "vendor/leaflet/leaflet.js" in html and "js/map.js" in html
    assert "Publish this draft" not in html  # published already
    assert "Exclude" not in html  # only a draft is adjusted


def test_the_unmet_list_filters_by_region_category_priority_and_reason(
    signed_in: Any, web_db: TestDatabase
) -> None:
    add_requests(web_db, 2, category="food.flour", prefix="F", priority=4)
    add_requests(web_db, 3, category="food.flour", org="utss", region="TN-61", prefix="G")
    batch_id = fresh_draft(web_db)
    client = signed_in("coordinator")

    def unmet_rows(query: str) -> list[str]:
        html = client.get(f"{BATCHES}/{batch_id}{query}").get_data(as_text=True)
        section = html.split('id="unmet"', 1)[1].split("</section>", 1)[0]
        return re.findall(r'<th scope="row">([^<]+)</th>', section)

    assert sorted(unmet_rows("")) == ["crt/F1", "crt/F2", "utss/G1", "utss/G2", "utss/G3"]
    assert unmet_rows("?region=TN-61") == ["utss/G1", "utss/G2", "utss/G3"]
    assert unmet_rows("?priority=4") == ["crt/F1", "crt/F2"]
    assert unmet_rows("?category=food.basket") == []
    assert len(unmet_rows("?reason=no_supply")) == 5
    assert unmet_rows("?reason=outcompeted") == []
    assert len(unmet_rows("?priority=x&region=")) == 5  # a bad filter is ignored
    html = client.get(f"{BATCHES}/{batch_id}?region=TN-61").get_data(as_text=True)
    assert '<option value="TN-61" selected>' in html
    assert "no stock of this category within reach" in html  # the reason's label


def test_history_lists_batches_with_key_figures(
    signed_in: Any, world: World, web_db: TestDatabase
) -> None:
    response = signed_in("coordinator").get(f"{BATCHES}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for batch_id in (world.published_batch, world.draft_batch):
        assert f'href="{BATCHES}/{batch_id}"' in html
    assert html.index(f"{BATCHES}/{world.draft_batch}") < html.index(
        f"{BATCHES}/{world.published_batch}"
    )  # newest date first
    with web_db.session() as s:
        published = s.get(Batch, world.published_batch)
        assert published is not None
        metrics = published.metrics or {}
    row = html.split(f'href="{BATCHES}/{world.published_batch}"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="number">([^<]*)</td>', row)
    assert cells == [
        f"{metrics['delivered_value']:,.1f}",
        str(metrics["allocations"]),
        str(metrics["routed"]),
        str(metrics["for_collection"]),
        str(metrics["unmet"]),
    ]
    assert "published" in row
    assert f"{BATCHES}/jobs/{world.batch_job}" in html  # the latest runs


def test_pages_in_arabic_are_right_to_left(signed_in: Any, world: World) -> None:
    html = signed_in("coordinator").get(f"{BATCHES}/{world.published_batch}?lang=ar")
    text = html.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in text and 'direction="rtl"' in text


def test_unknown_batch_is_404(signed_in: Any) -> None:
    assert signed_in("coordinator").get(f"{BATCHES}/999999").status_code == 404


def test_staff_may_not_see_the_national_batch(signed_in: Any, world: World) -> None:
    for path in ("/", f"/{world.published_batch}"):
        assert signed_in("staff").get(f"{BATCHES}{path}").status_code == 403
