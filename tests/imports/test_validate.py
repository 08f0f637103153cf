"""Whole-file rules: header columns, --org, households, normalised records."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from engine.imports.issues import HIDDEN
from engine.imports.records import LotRecord, RequestRecord, VolunteerRecord
from engine.imports.report import ImportReport
from engine.imports.schemas import SCHEMAS, Kind
from engine.imports.validate import validate, validate_file
from tests.imports.conftest import VALID, WriteFile

KINDS = [kind.value for kind in Kind]
REQUIRED = [(kind.value, column) for kind, s in SCHEMAS.items() for column in s.required]


@pytest.mark.parametrize(("kind", "column"), REQUIRED)
def test_missing_required_column_is_reported_once(
    kind: str, column: str, write_records: Callable[..., Path]
) -> None:
    path = write_records(kind, [{}, {"ref": "K2", "code": "K2", "household": "2"}], drop=[column])
    _, found = validate_file(kind, path)
    [issue] = found.issues
    assert (issue.row, issue.column, issue.value) == (1, column, None)
    assert issue.reason.startswith("missing required column")


@pytest.mark.parametrize("kind", KINDS)
def test_every_column_present_passes(kind: str, write_records: Callable[..., Path]) -> None:
    _, found = validate_file(kind, write_records(kind, [{}]))
    assert found.ok and [r.row for r in found.records] == [2]


@pytest.mark.parametrize("kind", KINDS)
def test_optional_columns_may_be_absent(kind: str, write_records: Callable[..., Path]) -> None:
    _, found = validate_file(kind, write_records(kind, [{}], drop=SCHEMAS[Kind(kind)].optional))
    assert found.ok and [r.row for r in found.records] == [2]


@pytest.mark.parametrize(
    ("kind", "drop", "column", "wanted"),
    [
        ("sites", ["lat", "lon", "address"], "lat", "lat+lon or address"),
        ("sites", ["lon", "address"], "lon", "lat+lon or address"),
        ("requests", ["lat", "lon", "address"], "lat", "lat+lon or address"),
        ("inventory", ["site", "region"], "site", "site or lat+lon+region"),
    ],
)
def test_missing_place_columns(
    kind: str, drop: list[str], column: str, wanted: str, write_records: Callable[..., Path]
) -> None:
    _, found = validate_file(kind, write_records(kind, [{}], drop=drop))
    [issue] = found.issues
    assert (issue.row, issue.column) == (1, column)
    assert wanted in issue.reason


@pytest.mark.parametrize(
    ("kind", "drop"),
    [
        ("sites", ["address"]),  # lat+lon alone
        ("sites", ["lat", "lon"]),  # address alone
        ("inventory", ["site"]),  # lat+lon+region alone
        ("inventory", ["lat", "lon", "region"]),  # site alone
    ],
)
def test_one_place_group_is_enough(
    kind: str, drop: list[str], write_records: Callable[..., Path]
) -> None:
    row = {"site": "W1"} if "lat" in drop else {}
    if kind == "sites" and "lat" in drop:
        row = {"address": "Rue de Rome, Tunis"}
    _, found = validate_file(kind, write_records(kind, [row], drop=drop))
    assert found.ok, found.issues


def test_column_aliases_are_not_accepted(write_file: WriteFile) -> None:
    header = ["org", "ref", "category", "Quantity", "latitude", "longitude", "region"]
    path = write_file(header, [["crt", "L1", "food.oil", "3", "36.8", "10.1", "TN-11"]])
    _, found = validate_file("inventory", path)
    reasons = {issue.column: issue.reason for issue in found.issues}
    assert set(reasons) == {"quantity", "site"}
    assert 'found "Quantity"' in reasons["quantity"]
    assert "site or lat+lon+region" in reasons["site"]
    assert all(issue.row == 1 for issue in found.issues)
    assert found.records == ()


def test_extra_columns_are_ignored_and_order_is_free(write_file: WriteFile) -> None:
    header = ["comment", "region", "name", "code"]
    path = write_file(header, [["anything", "TN-11", "Croissant-Rouge", "crt"]])
    _, found = validate_file("organizations", path)
    assert found.ok
    assert found.records[0].code == "crt"


def test_a_column_twice_in_the_header(write_file: WriteFile) -> None:
    path = write_file(["code", "name", "region", "name"], [["crt", "A", "TN-11", "B"]])
    _, found = validate_file("organizations", path)
    [issue] = found.issues
    assert (issue.row, issue.column) == (1, "name")
    assert "2 times" in issue.reason


# -- --org


def test_org_option_fills_an_absent_column(write_records: Callable[..., Path]) -> None:
    path = write_records("volunteers", [{}, {"ref": "V2"}], drop=["org"])
    _, without = validate_file("volunteers", path)
    assert [i.reason for i in without.issues] == ["missing required column (or give --org)"]
    _, found = validate_file("volunteers", path, org="sanad")
    assert found.ok
    assert [r.org for r in found.records] == ["sanad", "sanad"]


def test_org_option_fills_empty_cells_and_refuses_another_org(
    write_records: Callable[..., Path],
) -> None:
    rows = [{"org": ""}, {"org": "sanad", "ref": "L2"}, {"org": "crt", "ref": "L3"}]
    _, found = validate_file("inventory", write_records("inventory", rows), org="sanad")
    [issue] = found.issues
    assert (issue.row, issue.column, issue.value) == (4, "org", "crt")
    assert issue.reason == 'does not match --org "sanad"'
    assert [r.org for r in found.records] == ["sanad", "sanad"]


def test_org_option_is_ignored_for_organizations(write_records: Callable[..., Path]) -> None:
    _, found = validate_file("organizations", write_records("organizations", [{}]), org="x")
    assert found.ok and found.records[0].code == "crt"


def test_bad_org_option_is_refused(write_records: Callable[..., Path]) -> None:
    with pytest.raises(ValueError, match="--org"):
        validate_file("sites", write_records("sites", [{}]), org="x" * 300)


# -- households


def test_household_duplicate_in_one_file(write_records: Callable[..., Path]) -> None:
    rows = [
        {"ref": "R1", "household": "0812 3456", "filed": "2026-11-20"},
        {"ref": "R2", "household": "08-123-456", "filed": "2026-12-03"},  # 13 days later
        {"ref": "R3", "household": "08123456", "category": "food.oil"},  # another category
        {"ref": "R4", "household": "08123456", "filed": "2026-12-04"},  # 14 days: a new need
    ]
    _, found = validate_file("requests", write_records("requests", rows))
    [issue] = found.issues
    assert (issue.row, issue.column, issue.value) == (3, "household", HIDDEN)
    assert issue.reason.startswith('same household and category as row 2 (ref "crt/R1")')
    assert [r.ref for r in found.records] == ["R1", "R3", "R4"]


def test_household_rule_uses_today_for_rows_without_filed(
    write_records: Callable[..., Path],
) -> None:
    rows = [{"ref": "R1", "filed": ""}, {"ref": "R2", "filed": "2026-11-01"}]
    path = write_records("requests", rows)
    _, near = validate_file("requests", path, today=date(2026, 11, 10))
    assert [i.row for i in near.issues] == [3]
    _, far = validate_file("requests", path, today=date(2026, 12, 1))
    assert far.ok
    _, wide = validate_file("requests", path, today=date(2026, 12, 1), duplicate_window_days=31)
    assert not wide.ok


SECRET = "09876543"


def test_household_identifier_is_never_echoed(write_records: Callable[..., Path]) -> None:
    rows = [
        {"ref": "R1", "household": SECRET, "quantity": "-1"},
        {"ref": "R2", "household": SECRET},  # duplicate household
        {"ref": SECRET + "r" * 200, "household": SECRET, "phone": SECRET + "x"},
        {"ref": "R4", "household": SECRET + "é" * 200},  # too long
    ]
    path = write_records("requests", rows)
    _, found = validate_file("requests", path)
    report = ImportReport.rejected("requests", str(path), found.issues)
    assert len(found.issues) >= 5
    for text in (report.text(), json.dumps(report.to_json()), repr(found)):
        assert SECRET not in text
    assert any(i.column == "ref" and i.value == HIDDEN for i in found.issues)


def test_request_record_repr_hides_the_household(write_records: Callable[..., Path]) -> None:
    _, found = validate_file("requests", write_records("requests", [{"household": SECRET}]))
    [record] = found.records
    assert isinstance(record, RequestRecord)
    assert record.household == SECRET
    assert SECRET not in repr(record)


# -- normalised records


def test_records_are_typed_and_normalised(write_records: Callable[..., Path]) -> None:
    _, lots = validate_file(
        "inventory",
        write_records("inventory", [{"region": "tn-11", "regions": "tn-42;TN-11;;TN-42"}]),
    )
    [lot] = lots.records
    assert lot == LotRecord(
        2,
        "crt",
        "L001",
        "food.basket",
        40,
        None,
        36.8065,
        10.1815,
        "TN-11",
        expires=date(2026, 12, 5),
        regions=("TN-11", "TN-42"),
        donor="Boulangerie Ben Ali",
        received=date(2026, 11, 20),
    )
    _, vols = validate_file(
        "volunteers",
        write_records("volunteers", [{"speed_kmh": "", "days": "", "shift_end": "24:00"}]),
    )
    [vol] = vols.records
    assert isinstance(vol, VolunteerRecord)
    assert (vol.shift, vol.speed_kmh, vol.dates, vol.weekdays) == ((480, 1440), None, (), ())
    assert vol.available_on(date(2026, 11, 29))
    _, vols = validate_file("volunteers", write_records("volunteers", [{}]))
    [vol] = vols.records
    assert vol.dates == (date(2026, 11, 28),) and vol.weekdays == (0, 2)
    assert vol.available_on(date(2026, 11, 30))  # a Monday
    assert not vol.available_on(date(2026, 12, 1))  # a Tuesday


def test_request_windows(write_records: Callable[..., Path]) -> None:
    rows = [
        {"ref": "R1", "household": "1", "window_start": "", "window_end": ""},
        {"ref": "R2", "household": "2", "window_start": "13:30", "window_end": ""},
        {"ref": "R3", "household": "3", "window_start": "", "window_end": "12:00"},
    ]
    _, found = validate_file("requests", write_records("requests", rows))
    assert [r.window for r in found.records] == [None, (810, 1440), (0, 720)]


def test_address_rows_wait_for_geocoding(write_records: Callable[..., Path]) -> None:
    row = {"lat": "", "lon": "", "address": "Rue de Marseille, Tunis"}
    _, found = validate_file("sites", write_records("sites", [row, {"code": "W2"}]))
    assert [r.needs_geocoding for r in found.records] == [True, False]


def test_every_bad_cell_of_every_row_at_once(write_records: Callable[..., Path]) -> None:
    rows = [
        {"ref": "R1", "household": "1", "quantity": "0", "priority": "9", "region": "X"},
        {"ref": "R2", "household": "2"},
        {"ref": "R3", "household": "3", "lat": "100", "lon": "", "window_start": "7"},
    ]
    _, found = validate_file("requests", write_records("requests", rows))
    got = [(i.row, i.column) for i in found.issues]
    assert got == [
        (2, "quantity"),
        (2, "priority"),
        (2, "region"),
        (4, "lat"),
        (4, "lon"),  # lat and lon go together
        (4, "window_start"),
    ]
    assert [r.ref for r in found.records] == ["R2"]


def test_header_only_file_is_an_empty_import(write_file: WriteFile) -> None:
    _, found = validate_file("volunteers", write_file(list(VALID["volunteers"]), []))
    assert found.ok and found.records == ()


def test_unknown_kind(write_records: Callable[..., Path]) -> None:
    with pytest.raises(ValueError, match="unknown import kind 'donors'"):
        validate_file("donors", write_records("sites", [{}]))


def test_validate_accepts_a_table(write_records: Callable[..., Path]) -> None:
    from engine.imports.read import read_table

    table = read_table(write_records("organizations", [{}]))
    assert validate(Kind.ORGANIZATIONS, table).ok


def test_record_values_tell_updated_from_unchanged(write_records: Callable[..., Path]) -> None:
    from engine.imports.records import changes, record_values

    path = write_records("requests", [{"household": SECRET}])
    _, first = validate_file("requests", path)
    values = record_values(first.records[0])
    assert "household" not in values and "row" not in values
    assert values["filed"] == "2026-11-20" and values["window"] == [540, 1020]
    json.dumps(values)  # JSON-ready for the archive
    _, again = validate_file("requests", path)
    assert changes(values, record_values(again.records[0])) == {}
    edited = write_records("requests", [{"household": SECRET, "quantity": "3"}])
    _, later = validate_file("requests", edited)
    assert changes(values, record_values(later.records[0])) == {"quantity": (1, 3)}
