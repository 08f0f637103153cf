"""The synthetic scenario generator: determinism, spec conformance, realism."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from typing import Any

import numpy as np
import pytest

from engine.generate import generate_scenario, on_land
from engine.reference import default_categories, regions

DAY = date(2026, 11, 28)
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


@pytest.fixture(scope="module")
def big() -> dict[str, Any]:
    return generate_scenario(requests=20_000, supplies=4_000, volunteers=500, seed=11)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _minutes(hhmm: str) -> int:
    assert HHMM.match(hhmm), hhmm
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = np.argsort(np.argsort(a))
    rb = np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def test_same_seed_same_day_other_seed_other_day() -> None:
    a = generate_scenario(requests=300, supplies=60, volunteers=20, seed=5)
    b = generate_scenario(requests=300, supplies=60, volunteers=20, seed=5)
    c = generate_scenario(requests=300, supplies=60, volunteers=20, seed=6)
    assert json.dumps(a) == json.dumps(b)
    assert json.dumps(a) != json.dumps(c)


def test_sizes_ids_and_header() -> None:
    doc = generate_scenario(requests=123, supplies=45, volunteers=6, seed=1, day=date(2027, 1, 3))
    assert doc["version"] == 1
    assert doc["date"] == "2027-01-03"
    assert "categories" not in doc and "policy" not in doc
    for key, prefix, n in (("requests", "R", 123), ("supplies", "S", 45), ("volunteers", "V", 6)):
        ids = [rec["id"] for rec in doc[key]]
        assert ids == [f"{prefix}{i}" for i in range(1, n + 1)]
    json.dumps(doc)  # JSON-ready


def test_empty_lists_and_bad_counts() -> None:
    doc = generate_scenario(requests=0, supplies=0, volunteers=0, seed=0)
    assert doc["requests"] == doc["supplies"] == doc["volunteers"] == []
    with pytest.raises(ValueError, match="requests"):
        generate_scenario(requests=-1, supplies=1, volunteers=0, seed=0)


def test_records_follow_the_spec(big: dict[str, Any]) -> None:
    cats = default_categories()
    codes = set(regions("TN"))
    day = big["date"]
    for rec in big["requests"]:
        assert rec["category"] in cats
        assert _is_int(rec["quantity"]) and 1 <= rec["quantity"] <= 3
        assert _is_int(rec["priority"]) and 1 <= rec["priority"] <= 5
        assert rec["region"] in codes
        assert date.fromisoformat(rec["filed"]) <= DAY
        assert (DAY - date.fromisoformat(rec["filed"])).days <= 60
        if "window" in rec:
            start, end = rec["window"]
            assert _minutes(start) < _minutes(end)
    for rec in big["supplies"]:
        assert rec["category"] in cats
        assert _is_int(rec["quantity"]) and 5 <= rec["quantity"] <= 200
        assert rec["region"] in codes
        assert isinstance(rec["org"], str) and rec["org"]
        if "expires" in rec:
            assert cats[rec["category"]].perishable
            date.fromisoformat(rec["expires"])
        else:
            assert not cats[rec["category"]].perishable
        if "regions" in rec:
            assert rec["region"] in rec["regions"]
            assert set(rec["regions"]) <= codes
    for rec in big["volunteers"]:
        assert _is_num(rec["capacity_kg"]) and rec["capacity_kg"] > 0
        assert _is_num(rec["speed_kmh"]) and rec["speed_kmh"] > 0
        start, end = rec["shift"]
        assert _minutes(start) < _minutes(end)
    assert day == DAY.isoformat()


def test_coordinates_on_tunisian_land(big: dict[str, Any]) -> None:
    for key in ("requests", "supplies", "volunteers"):
        lat = np.array([rec["lat"] for rec in big[key]])
        lon = np.array([rec["lon"] for rec in big[key]])
        assert ((lat >= 30.2) & (lat <= 37.6)).all(), key
        assert ((lon >= 7.5) & (lon <= 11.7)).all(), key
        assert on_land(lat, lon).all(), key


def test_reader_accepts_generated_scenario(big: dict[str, Any]) -> None:
    reader = pytest.importorskip("engine.scenario.reader")
    scenario = reader.parse_scenario(json.loads(json.dumps(big)))
    assert len(scenario.requests) == len(big["requests"])
    assert len(scenario.supplies) == len(big["supplies"])
    assert len(scenario.volunteers) == len(big["volunteers"])


def test_optional_features_present_in_plausible_shares(big: dict[str, Any]) -> None:
    reqs, sups = big["requests"], big["supplies"]
    windows = sum("window" in r for r in reqs) / len(reqs)
    assert 0.10 < windows < 0.20
    restricted = sum("regions" in s for s in sups) / len(sups)
    assert 0.06 < restricted < 0.14
    perishable = [s for s in sups if "expires" in s]
    expired = [s for s in perishable if s["expires"] < big["date"]]
    assert perishable and expired
    assert len(expired) < len(perishable) / 2
    prio = Counter(r["priority"] for r in reqs)
    assert prio[5] < prio[4] < prio[2]  # few urgent ones
    assert prio[5] > 0


def test_supplies_share_depots(big: dict[str, Any]) -> None:
    sups = big["supplies"]
    places = {(s["lat"], s["lon"]) for s in sups}
    assert len(places) <= len(sups) / 5
    orgs = {s["org"] for s in sups}
    assert {"crt", "scouts", "unft", "ltdh"} <= orgs
    assert any(o.startswith("assoc-") for o in orgs)
    small = generate_scenario(requests=40, supplies=30, volunteers=0, seed=2)["supplies"]
    assert len({(s["lat"], s["lon"]) for s in small}) < len(small)


def test_winter_scarcity(big: dict[str, Any]) -> None:
    demand: Counter[str] = Counter()
    stock: Counter[str] = Counter()
    for r in big["requests"]:
        demand[r["category"]] += r["quantity"]
    for s in big["supplies"]:
        stock[s["category"]] += s["quantity"]
    # Late November: winter items are among the most requested.
    top = {c for c, _ in demand.most_common(4)}
    assert {"food.basket", "winter.blanket"} <= top
    assert stock["food.basket"] < demand["food.basket"]
    assert stock["winter.blanket"] < demand["winter.blanket"]
    assert any(stock[c] > 1.5 * demand[c] for c in demand)  # something oversupplied


def test_season_changes_the_mix() -> None:
    summer = generate_scenario(
        requests=5_000, supplies=0, volunteers=0, seed=3, day=date(2026, 7, 1)
    )
    winter = generate_scenario(requests=5_000, supplies=0, volunteers=0, seed=3)
    blankets = [
        sum(r["category"] == "winter.blanket" for r in doc["requests"]) for doc in (summer, winter)
    ]
    assert blankets[0] * 3 < blankets[1]


def test_density_follows_poverty_and_income(big: dict[str, Any]) -> None:
    regs = regions("TN")
    codes = list(regs)
    pop = np.array([regs[c].population for c in codes], dtype=float)
    poverty = np.array([regs[c].extra["poverty_rate"] for c in codes])
    income = np.array([regs[c].extra["income_index"] for c in codes])
    req = Counter(r["region"] for r in big["requests"])
    lots = Counter(s["region"] for s in big["supplies"])
    req_per_capita = np.array([req[c] for c in codes]) / pop
    lots_per_capita = np.array([lots[c] for c in codes]) / pop
    assert _spearman(req_per_capita, poverty) > 0.8
    assert _spearman(lots_per_capita, income) > 0.5


def test_volunteer_fleet_mix(big: dict[str, Any]) -> None:
    vehicles = Counter((v["capacity_kg"], v["speed_kmh"]) for v in big["volunteers"])
    assert set(vehicles) == {(40.0, 35.0), (300.0, 45.0), (900.0, 40.0)}
    assert vehicles[(300.0, 45.0)] > vehicles[(40.0, 35.0)] > vehicles[(900.0, 40.0)]
    shifts = {tuple(v["shift"]) for v in big["volunteers"]}
    assert shifts == {("08:00", "14:00"), ("09:00", "17:00"), ("14:00", "20:00")}
