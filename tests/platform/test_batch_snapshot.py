"""The day's snapshot: what is open on a date, in the exchange format."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

from engine.scenario.reader import parse_scenario
from engine.snapshot import available_on, snapshot
from tests.platform import factories as f
from tests.platform.conftest import TestDatabase

DAY = f.DAY  # a Saturday


def test_snapshot_takes_what_is_open_on_the_date(database: TestDatabase) -> None:
    with database.session() as s:
        org = f.make_org(s)
        site = f.make_site(s, org, at=(36.7, 10.1))
        f.make_lot(s, org, "FRESH", 10, site=site, expires=DAY)
        f.make_lot(s, org, "EXPIRED", 10, expires=DAY - timedelta(days=1))
        f.make_lot(s, org, "LATER", 10, received_on=DAY + timedelta(days=1))
        f.make_lot(s, org, "PART", 10, quantity_reserved=4, quantity_delivered=3)
        f.make_lot(s, org, "GONE", 10, quantity_reserved=6, quantity_delivered=4)
        f.make_lot(s, org, "RESTRICTED", 5, regions=["TN-42"], region="TN-11")
        f.make_request(s, org, "OPEN", window_start=time(9), window_end=time(12))
        f.make_request(s, org, "TAKEN", status="allocated")
        f.make_request(s, org, "FUTURE", filed=DAY + timedelta(days=1))
        f.make_volunteer(s, org, "EVERYDAY")
        f.make_volunteer(s, org, "SATURDAYS", days=["sat"])
        f.make_volunteer(s, org, "THATDAY", days=[DAY.isoformat()])
        f.make_volunteer(s, org, "MONDAYS", days=["mon", "2026-11-29"])
        f.make_volunteer(s, org, "RETIRED", active=False)
        s.commit()
        scenario = snapshot(s, DAY).scenario

    supplies = {x.id: x for x in scenario.supplies}
    assert list(supplies) == ["crt/FRESH", "crt/PART", "crt/RESTRICTED"]
    assert supplies["crt/PART"].quantity == 3  # 10 received - 4 reserved - 3 delivered
    assert supplies["crt/FRESH"].expires == DAY
    assert (supplies["crt/FRESH"].lat, supplies["crt/FRESH"].lon) == (36.7, 10.1)  # its site
    assert supplies["crt/RESTRICTED"].regions == frozenset({"TN-42"})
    assert supplies["crt/RESTRICTED"].org == "crt"
    assert [r.id for r in scenario.requests] == ["crt/OPEN"]
    assert scenario.requests[0].window == (9 * 60, 12 * 60)
    assert [v.id for v in scenario.volunteers] == ["crt/EVERYDAY", "crt/SATURDAYS", "crt/THATDAY"]
    assert "food.basket" in scenario.categories


def test_snapshot_is_deterministic_and_round_trips(database: TestDatabase) -> None:
    with database.session() as s:
        b = f.make_org(s, "b-org")
        a = f.make_org(s, "a-org")
        for org in (b, a):
            for ref in ("L2", "L1"):
                f.make_lot(s, org, ref, 3)
            f.make_request(s, org, "R9")
            f.make_request(s, org, "R1")
        s.commit()
        first = snapshot(s, DAY).scenario
        second = snapshot(s, DAY).scenario
    assert first == second
    assert [x.id for x in first.supplies] == ["a-org/L1", "a-org/L2", "b-org/L1", "b-org/L2"]
    assert [x.id for x in first.requests] == ["a-org/R1", "a-org/R9", "b-org/R1", "b-org/R9"]
    from engine.scenario.writer import scenario_to_dict

    assert parse_scenario(json.loads(json.dumps(scenario_to_dict(first)))) == first


def test_export_scenario_writes_the_snapshot(database: TestDatabase) -> None:
    with database.session() as s:
        org = f.make_org(s)
        f.make_lot(s, org)
        f.make_request(s, org)
        s.commit()
    result = database.cli("export-scenario", "--date", DAY.isoformat(), "-o", "day.json")
    assert result.code == 0, result.err
    doc = json.loads((database.workdir / "day.json").read_text())
    assert [x["id"] for x in doc["supplies"]] == ["crt/L1"]
    assert [x["id"] for x in doc["requests"]] == ["crt/R1"]
    assert parse_scenario(doc).date == DAY


def test_volunteer_days() -> None:
    saturday = date(2026, 11, 28)
    assert available_on(None, saturday)
    assert available_on(["Sat"], saturday)
    assert available_on(["2026-11-28"], saturday)
    assert not available_on(["sun", "2026-11-27"], saturday)
    assert not available_on([], saturday)
