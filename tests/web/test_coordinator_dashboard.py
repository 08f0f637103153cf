"""``/coordinator/``: the day's figures checked against a count of the world's rows
made here in Python, the organization's scope, the map's data, the bars."""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from engine import dashboard
from engine.access import Actor
from engine.models import Request, Site, SupplyLot, Volunteer
from tests.platform import factories as f
from tests.web.world import DAY, World

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def expected(web_db: Any, day: date, org_id: int | None) -> dict[str, Any]:
    """The day's figures, counted from every row (no SQL aggregate, no engine code)."""
    with web_db.session() as s:
        requests = s.execute(select(Request)).scalars().all()
        lots = s.execute(select(SupplyLot)).scalars().all()
        sites = {site.id: site for site in s.execute(select(Site)).scalars()}
        volunteers = s.execute(select(Volunteer)).scalars().all()
    mine = (lambda row: True) if org_id is None else (lambda row: row.org_id == org_id)
    needs: dict[str, dict[Any, list[int]]] = {k: defaultdict(lambda: [0, 0]) for k in "rcp"}
    total = [0, 0]
    for r in requests:
        if mine(r) and r.status == "open" and r.filed <= day:
            for key, value in (("r", r.region_code), ("c", r.category_id), ("p", r.priority)):
                needs[key][value][0] += 1
                needs[key][value][1] += r.quantity
            total[0] += 1
            total[1] += r.quantity
    stock: dict[str, dict[Any, list[int]]] = {k: defaultdict(lambda: [0, 0, 0]) for k in "cr"}
    for lot in lots:
        left = lot.quantity_received - lot.quantity_reserved - lot.quantity_delivered
        if not mine(lot) or left <= 0:
            continue
        if lot.expires is not None and lot.expires < day:
            continue
        if lot.received_on is not None and lot.received_on > day:
            continue
        region = sites[lot.site_id].region_code if lot.site_id else lot.region_code
        soon = lot.expires is not None and lot.expires <= day + timedelta(days=7)
        for key, value in (("c", lot.category_id), ("r", region)):
            stock[key][value][0] += 1
            stock[key][value][1] += left
            stock[key][value][2] += left if soon else 0
    wanted = {day.isoformat(), WEEKDAYS[day.weekday()]}
    available = sorted(
        v.ref
        for v in volunteers
        if mine(v) and v.active and (v.days is None or wanted & set(v.days))
    )
    return {
        "needs": tuple(total),
        "region": {k: tuple(v) for k, v in needs["r"].items()},
        "category": {k: tuple(v) for k, v in needs["c"].items()},
        "priority": {k: tuple(v) for k, v in needs["p"].items()},
        "stock_category": {k: tuple(v) for k, v in stock["c"].items()},
        "stock_region": {k: tuple(v) for k, v in stock["r"].items()},
        "volunteers": available,
    }


def figures(board: dashboard.Dashboard) -> dict[str, Any]:
    return {
        "needs": (board.needs.count, board.needs.units),
        "region": {t.key: (t.count, t.units) for t in board.needs_by_region},
        "category": {t.key: (t.count, t.units) for t in board.needs_by_category},
        "priority": {t.key: (t.count, t.units) for t in board.needs_by_priority},
        "stock_category": {
            t.key: (t.lots, t.units, t.expiring_units) for t in board.stock_by_category
        },
        "stock_region": {t.key: (t.lots, t.units, t.expiring_units) for t in board.stock_by_region},
        "volunteers": sorted(v.ref for v in board.volunteers),
    }


def stat_figures(body: str) -> list[str]:
    return re.findall(r'<p class="stat-figure">([^<]*)</p>', body)


def map_stops(body: str) -> list[dict[str, Any]]:
    found = re.search(r'<script type="application/json" id="day-map-data">(.*?)</script>', body)
    assert found is not None
    return json.loads(found[1])["stops"]


def _more_rows(web_db: Any, world: World, side: str = "own") -> None:
    """Variety beyond the world's (whose requests its batch allocated): an expiring lot,
    an expired one, a future one, a lot away from any site, open requests, a closed
    one, one filed later, a volunteer on weekdays only, an inactive one."""
    from engine.models import Organization

    with web_db.session() as s:
        crt = s.get(Organization, world.ids[side]["org_id"])
        f.make_lot(s, crt, "SOON", 12, category="food.milk", expires=DAY + timedelta(days=3))
        f.make_lot(s, crt, "OLD", 9, category="food.milk", expires=DAY - timedelta(days=1))
        f.make_lot(s, crt, "LATER", 7, received_on=DAY + timedelta(days=2))
        f.make_lot(s, crt, "FIELD", 5, category="food.oil", at=f.KASSERINE, region="TN-42")
        f.make_request(s, crt, "DONE", status="delivered", quantity=4)
        f.make_request(s, crt, "NEXT", filed=DAY + timedelta(days=1), quantity=3)
        f.make_request(s, crt, "URGENT", priority=5, quantity=6, category="food.oil")
        f.make_request(s, crt, "OPEN", quantity=2, region="TN-11")
        f.make_volunteer(s, crt, "WEEKDAYS", days=["mon", "tue"])  # DAY is a Saturday
        f.make_volunteer(s, crt, "OFF", active=False)
        s.commit()


def test_the_figures_match_a_count_of_the_rows(web_db: Any, world: World) -> None:
    _more_rows(web_db, world)
    own = world.ids["own"]["org_id"]
    coordinator = Actor("c", "coordinator", org_id=own)
    admin = Actor("a", "admin")
    with web_db.session() as s:
        for day in (DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)):
            for actor, org_id in ((coordinator, own), (admin, None), (admin, own)):
                board = dashboard.day_dashboard(s, actor, day, org_id=org_id)
                want = expected(web_db, day, org_id if org_id is not None else actor.org_id)
                assert figures(board) == want, (day, actor.role, org_id)
    # The rows this test added count where they should.
    with web_db.session() as s:
        board = dashboard.day_dashboard(s, coordinator, DAY)
    assert board.stock_by_category and {lot.ref for lot in board.expiring} == {"SOON"}
    assert "WEEKDAYS" not in {v.ref for v in board.volunteers}
    assert board.needs_by_priority[0].key == 5  # most urgent first
    assert (board.needs.count, board.needs.units) == (2, 8)  # URGENT and OPEN


def test_the_page_shows_the_figures_of_the_users_organization(
    signed_in: Any, web_db: Any, world: World
) -> None:
    _more_rows(web_db, world)
    want = expected(web_db, DAY, world.ids["own"]["org_id"])
    client = signed_in("coordinator")
    response = client.get(f"/coordinator/?date={DAY.isoformat()}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    stock_units = sum(v[1] for v in want["stock_category"].values())
    assert stat_figures(body) == [
        str(want["needs"][0]),
        str(stock_units),
        str(len(want["volunteers"])),
    ]
    assert "Saturday, November 28, 2026" in body
    assert "Kasserine" in body and "Food basket" in body  # localised names
    assert "3 days left" in body  # the lot expiring soon, flagged
    stops = map_stops(body)
    kinds = {stop["kind"] for stop in stops}
    assert kinds == {"need", "stock", "home"}
    assert sum(stop["kind"] == "need" for stop in stops) == want["needs"][0]
    assert all(stop["label"].startswith("crt/") or "crt/" in stop["label"] for stop in stops)
    assert "utss/" not in body  # nothing of the other organization
    assert re.search(r'<rect x="0" y="0" height="10" width="100.00"></rect>', body)
    assert " style=" not in body  # the CSP allows no inline style
    # In Arabic: right to left, names in Arabic.
    arabic = client.get(f"/coordinator/?date={DAY.isoformat()}&lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "القصرين" in arabic


def test_staff_see_their_organization_and_admins_every_one(
    signed_in: Any, web_db: Any, world: World
) -> None:
    _more_rows(web_db, world, "own")
    _more_rows(web_db, world, "other")
    day = f"?date={DAY.isoformat()}"
    staff = signed_in("staff", "other")
    body = staff.get(f"/coordinator/{day}").get_data(as_text=True)
    want = expected(web_db, DAY, world.ids["other"]["org_id"])
    assert stat_figures(body)[0] == str(want["needs"][0]) == "2"
    assert "crt/" not in body
    # Another organization asked for by id: not found, except for an admin.
    other = world.ids["other"]["org_id"]
    assert signed_in("coordinator").get(f"/coordinator/{day}&org={other}").status_code == 404
    admin = signed_in("admin")
    body = admin.get(f"/coordinator/{day}").get_data(as_text=True)
    everything = expected(web_db, DAY, None)
    assert stat_figures(body)[0] == str(everything["needs"][0]) == "4"
    assert "crt/" in body and "utss/" in body and "All organizations" in body
    body = admin.get(f"/coordinator/{day}&org={other}").get_data(as_text=True)
    assert stat_figures(body)[0] == str(want["needs"][0])
    assert "crt/" not in body and "UTSS (utss)" in body


def test_a_bad_date_is_said_and_today_shown(signed_in: Any) -> None:
    response = signed_in("staff").get("/coordinator/?date=2026-13-45")
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Not a valid date value." in body
    assert f'value="{date.today().isoformat()}"' in body
    arabic = signed_in("staff").get("/coordinator/?date=2026-13-45&lang=ar")
    assert "قيمة التاريخ غير صالحة." in arabic.get_data(as_text=True)
