"""The demo's import files (engine.demo_data): valid as the import pipeline reads them,
realistic, free of household duplicates, and the same for the same seed."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from engine.demo_data import COLUMNS, IMPORT_ORDER, demo_tables, main, write_demo_day
from engine.imports.prepare import prepare
from engine.imports.schemas import Kind, schema

DAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory: pytest.TempPathFactory):
    return write_demo_day(tmp_path_factory.mktemp("demo-day"), day=DAY)


@pytest.fixture(scope="module")
def tables():
    return demo_tables(day=DAY)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_file_passes_the_import_validation(demo_day) -> None:
    assert tuple(demo_day.files) == IMPORT_ORDER
    for kind, path in demo_day.files.items():
        prepared = prepare(kind, path, today=DAY)
        assert prepared.issues == (), (kind, prepared.issues[:5])
        assert len(prepared.records) == demo_day.rows[kind] > 0


def test_headers_are_the_spec_columns(demo_day) -> None:
    for kind, path in demo_day.files.items():
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
        assert header == list(COLUMNS[kind])
        assert set(header) <= set(schema(kind).columns)
        assert set(schema(kind).required) <= set(header)


def test_sizes_are_those_of_the_demo_day(demo_day, tables) -> None:
    assert demo_day.rows[Kind.REQUESTS] == 2000
    assert demo_day.rows[Kind.INVENTORY] == 300
    assert demo_day.rows[Kind.VOLUNTEERS] == 60
    # The four national organizations and at least one association per governorate.
    codes = [row["code"] for row in tables[Kind.ORGANIZATIONS]]
    assert codes[:4] == ["crt", "scouts", "unft", "ltdh"]
    assert len({row["region"] for row in tables[Kind.ORGANIZATIONS]}) == 24
    # Depots are shared: far fewer sites than lots.
    assert 10 <= demo_day.rows[Kind.SITES] <= demo_day.rows[Kind.INVENTORY] // 3


def test_every_reference_resolves(tables) -> None:
    orgs = {row["code"] for row in tables[Kind.ORGANIZATIONS]}
    sites = {(row["org"], row["code"]) for row in tables[Kind.SITES]}
    for kind in (Kind.SITES, Kind.INVENTORY, Kind.REQUESTS, Kind.VOLUNTEERS):
        assert {row["org"] for row in tables[kind]} <= orgs, kind
    assert {(row["org"], row["site"]) for row in tables[Kind.INVENTORY]} <= sites
    # Requests and volunteers are spread over many organizations, not one.
    assert len({row["org"] for row in tables[Kind.REQUESTS]}) >= 10


def test_no_household_asks_twice_for_one_category(tables) -> None:
    pairs = Counter((row["household"], row["category"]) for row in tables[Kind.REQUESTS])
    assert max(pairs.values()) == 1


def test_households_are_families(tables) -> None:
    families: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in tables[Kind.REQUESTS]:
        assert len(row["household"]) == 8 and row["household"].isdigit()
        families[row["household"]].append(row)
    sizes = Counter(len(rows) for rows in families.values())
    # Most families ask once; a good share ask for several things; none for more than 4.
    assert sizes[1] > len(families) / 3
    assert sum(n for size, n in sizes.items() if size > 1) > len(families) / 5
    assert max(sizes) <= 4
    for rows in families.values():  # one family: one place, one name, one phone
        assert len({(r["region"], r["lat"], r["lon"], r["name"], r["phone"]) for r in rows}) == 1
    # Some families are known to two organizations (recognised across them).
    assert any(len({r["org"] for r in rows}) > 1 for rows in families.values())


def test_people_look_tunisian(tables) -> None:
    requests = tables[Kind.REQUESTS]
    arabic = sum(any("\u0600" <= ch <= "\u06ff" for ch in row["name"]) for row in requests)
    assert 0.3 < arabic / len(requests) < 0.6  # Arabic script and Latin script
    phones = [row["phone"] for row in requests if row["phone"]]
    assert 0.8 < len(phones) / len(requests) < 0.95
    assert all(p.startswith("+216 ") and len(p.replace(" ", "")) == 12 for p in phones)


def test_volunteers_availability_is_mixed(tables) -> None:
    days = [row["days"] for row in tables[Kind.VOLUNTEERS]]
    assert days.count("") > len(days) / 2  # most come any day
    listed = [d for d in days if d]
    assert any("sat" in d or DAY.isoformat() in d for d in listed)  # listed, on the day
    assert any("sat" not in d and DAY.isoformat() not in d for d in listed)  # not on the day


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    small = {"requests": 300, "supplies": 50, "volunteers": 10, "day": DAY}
    first = write_demo_day(tmp_path / "a", seed=3, **small)
    second = write_demo_day(tmp_path / "b", seed=3, **small)
    other = write_demo_day(tmp_path / "c", seed=4, **small)
    for kind in IMPORT_ORDER:
        assert first.files[kind].read_bytes() == second.files[kind].read_bytes()
    assert first.files[Kind.REQUESTS].read_bytes() != other.files[Kind.REQUESTS].read_bytes()


def test_a_tiny_day_is_still_valid(tmp_path: Path) -> None:
    demo = write_demo_day(tmp_path, requests=5, supplies=2, volunteers=1, seed=1, day=DAY)
    for kind, path in demo.files.items():
        assert prepare(kind, path, today=DAY).issues == ()


def test_entry_point_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(tmp_path), "--requests", "40", "--supplies", "8", "--volunteers", "3"]
    assert main([*args, "--date", "2026-12-07"]) == 0
    out = capsys.readouterr().out
    for kind in IMPORT_ORDER:
        assert f"{kind.value}.csv" in out
    assert len(_rows(tmp_path / "requests.csv")) == 40
