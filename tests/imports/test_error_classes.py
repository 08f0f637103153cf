"""Every error class of every import kind: one failing and one passing row each.

Each case writes a two-row file (CSV and XLSX): row 2 carries the passing value,
row 3 the failing one. The failing row must give the expected issue and no record;
the passing row must give a record and no issue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.imports.issues import HIDDEN
from engine.imports.validate import validate_file
from tests.imports.conftest import key_column


@dataclass(frozen=True)
class Case:
    kind: str
    column: str  # the column the issue names
    reason: str  # a fragment of the expected reason
    bad: Mapping[str, str]
    good: Mapping[str, str] = field(default_factory=dict)


LONG = "x" * 201
CASES: dict[str, Case] = {
    # organizations
    "org.code.missing": Case("organizations", "code", "missing value", {"code": ""}),
    "org.code.long": Case("organizations", "code", "at most 200 characters", {"code": LONG}),
    "org.name.missing": Case("organizations", "name", "missing value", {"name": ""}),
    "org.name.long": Case("organizations", "name", "at most 200 characters", {"name": LONG}),
    "org.region.unknown": Case(
        "organizations", "region", "unknown region", {"region": "TN-99"}, {"region": "tn-13"}
    ),
    "org.region.missing": Case("organizations", "region", "missing value", {"region": ""}),
    "org.parent.self": Case(
        "organizations",
        "parent",
        "cannot be its own parent",
        {"code": "loop", "parent": "loop"},
        {"parent": "crt"},
    ),
    # sites
    "site.org.missing": Case("sites", "org", "missing value", {"org": ""}),
    "site.name.missing": Case("sites", "name", "missing value", {"name": ""}),
    "site.region.unknown": Case("sites", "region", "unknown region", {"region": "FR-75"}),
    "site.lat.range": Case(
        "sites", "lat", "must be a number in [-90, 90]", {"lat": "91"}, {"lat": "-33.9"}
    ),
    "site.lon.range": Case(
        "sites", "lon", "must be a number in [-180, 180]", {"lon": "181"}, {"lon": "-180"}
    ),
    "site.lat.comma": Case("sites", "lat", "with a point", {"lat": "36,8"}, {"lat": "36.8"}),
    "site.lat.text": Case("sites", "lat", "must be a number", {"lat": "north"}),
    "site.lon.alone": Case(
        "sites",
        "lon",
        "lat and lon go together",
        {"lon": ""},
        {"lat": "", "lon": "", "address": "Rue de Marseille, Tunis"},
    ),
    "site.place.missing": Case(
        "sites", "lat", "missing place", {"lat": "", "lon": "", "address": ""}
    ),
    "site.address.long": Case(
        "sites", "address", "at most 500", {"lat": "", "lon": "", "address": "y" * 501}
    ),
    # inventory
    "lot.ref.missing": Case("inventory", "ref", "missing value", {"ref": ""}),
    "lot.category.unknown": Case(
        "inventory", "category", "unknown category", {"category": "food.caviar"}
    ),
    "lot.quantity.negative": Case(
        "inventory", "quantity", "must be a positive integer", {"quantity": "-3"}
    ),
    "lot.quantity.zero": Case(
        "inventory", "quantity", "must be a positive integer", {"quantity": "0"}
    ),
    "lot.quantity.fraction": Case(
        "inventory", "quantity", "must be a positive integer", {"quantity": "2.5"}
    ),
    "lot.quantity.text": Case(
        "inventory", "quantity", "must be a positive integer", {"quantity": "forty"}
    ),
    "lot.quantity.limit": Case(
        "inventory",
        "quantity",
        "must be at most 1000000000",
        {"quantity": "1000000001"},
        {"quantity": "1000000000"},
    ),
    "lot.site.and.coordinates": Case(
        "inventory",
        "lat",
        "must be empty when site is given",
        {"site": "W1"},
        {"site": "W1", "lat": "", "lon": "", "region": ""},
    ),
    "lot.region.missing": Case(
        "inventory", "region", "give site, or lat, lon and region", {"region": ""}
    ),
    "lot.expires.format": Case(
        "inventory", "expires", "must be a date YYYY-MM-DD", {"expires": "05/12/2026"}
    ),
    "lot.expires.impossible": Case(
        "inventory", "expires", "must be a date YYYY-MM-DD", {"expires": "2026-02-30"}
    ),
    "lot.received.format": Case(
        "inventory", "received", "must be a date YYYY-MM-DD", {"received": "yesterday"}
    ),
    "lot.regions.unknown": Case(
        "inventory",
        "regions",
        'unknown region "XX-1"',
        {"regions": "TN-11;XX-1"},
        {"regions": "tn-11; TN-42;"},
    ),
    "lot.donor.long": Case("inventory", "donor", "at most 200 characters", {"donor": LONG}),
    # requests
    "req.household.missing": Case("requests", "household", "missing value", {"household": ""}),
    "req.household.blank": Case(
        "requests", "household", "must contain letters or digits", {"household": "- -"}
    ),
    "req.household.long": Case(
        "requests", "household", "at most 200 characters", {"household": "7" * 201}
    ),
    "req.category.unknown": Case("requests", "category", "unknown category", {"category": "x"}),
    "req.quantity.negative": Case(
        "requests", "quantity", "must be a positive integer", {"quantity": "-3"}
    ),
    "req.priority.low": Case(
        "requests", "priority", "integer from 1 to 5", {"priority": "0"}, {"priority": "1"}
    ),
    "req.priority.high": Case(
        "requests", "priority", "integer from 1 to 5", {"priority": "6"}, {"priority": "5"}
    ),
    "req.priority.text": Case("requests", "priority", "integer from 1 to 5", {"priority": "high"}),
    "req.region.missing": Case("requests", "region", "missing value", {"region": ""}),
    "req.region.unknown": Case("requests", "region", "unknown region", {"region": "TN-00"}),
    "req.lat.alone": Case("requests", "lon", "lat and lon go together", {"lon": ""}),
    "req.place.missing": Case(
        "requests",
        "lat",
        "missing place",
        {"lat": "", "lon": "", "address": ""},
        {"lat": "", "lon": "", "address": "Cité Ennour, Kasserine"},
    ),
    "req.filed.format": Case(
        "requests", "filed", "must be a date YYYY-MM-DD", {"filed": "2026-11-20T10:00"}
    ),
    "req.window_start.format": Case(
        "requests",
        "window_start",
        "must be a time HH:MM",
        {"window_start": "25:00"},
        {"window_start": "9:30"},
    ),
    "req.window.order": Case(
        "requests",
        "window_end",
        "precedes its start",
        {"window_start": "17:00", "window_end": "09:00"},
        {"window_start": "09:00", "window_end": "09:00"},
    ),
    "req.phone.format": Case(
        "requests", "phone", "must be a phone number", {"phone": "call me"}, {"phone": "71000000"}
    ),
    "req.name.long": Case("requests", "name", "at most 200 characters", {"name": LONG}),
    # volunteers
    "vol.name.missing": Case("volunteers", "name", "missing value", {"name": ""}),
    "vol.lat.missing": Case("volunteers", "lat", "missing value", {"lat": ""}),
    "vol.lon.range": Case("volunteers", "lon", "[-180, 180]", {"lon": "200"}),
    "vol.capacity.zero": Case(
        "volunteers",
        "capacity_kg",
        "must be a positive number",
        {"capacity_kg": "0"},
        {"capacity_kg": "0.5"},
    ),
    "vol.capacity.limit": Case(
        "volunteers",
        "capacity_kg",
        "must be at most 1000000",
        {"capacity_kg": "1000001"},
        {"capacity_kg": "1000000"},
    ),
    "vol.speed.low": Case(
        "volunteers",
        "speed_kmh",
        "must be at least 0.1",
        {"speed_kmh": "0.05"},
        {"speed_kmh": "0.1"},
    ),
    "vol.speed.high": Case(
        "volunteers", "speed_kmh", "must be at most 1000", {"speed_kmh": "1001"}
    ),
    "vol.shift_start.format": Case(
        "volunteers", "shift_start", "must be a time HH:MM", {"shift_start": "8h"}
    ),
    "vol.shift_end.missing": Case("volunteers", "shift_end", "missing value", {"shift_end": ""}),
    "vol.shift.order": Case(
        "volunteers",
        "shift_end",
        "end 07:00 precedes its start 08:00",
        {"shift_end": "07:00"},
        {"shift_end": "24:00"},
    ),
    "vol.days.unknown": Case(
        "volunteers",
        "days",
        'item "funday" is neither a date',
        {"days": "mon;funday"},
        {"days": "Mon; SUN;2026-12-01"},
    ),
    "vol.vehicle.long": Case("volunteers", "vehicle", "at most 50", {"vehicle": "v" * 51}),
    "vol.phone.format": Case("volunteers", "phone", "phone number", {"phone": "+216 abc"}),
}


def two_rows(case: Case) -> list[dict[str, str]]:
    key = key_column(case.kind)
    good = {key: "K2", **case.good}
    bad = {key: "K3", **case.bad}
    if case.kind == "requests":  # two households: the duplicate rule stays out
        good.setdefault("household", "11111111")
        bad.setdefault("household", "22222222")
    return [good, bad]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_error_class(name: str, fmt: str, write_records: Callable[..., Path]) -> None:
    case = CASES[name]
    path = write_records(case.kind, two_rows(case), fmt=fmt)
    _, found = validate_file(case.kind, path)
    assert {issue.row for issue in found.issues} == {3}, found.issues
    assert any(
        issue.column == case.column and case.reason in issue.reason for issue in found.issues
    ), found.issues
    assert [record.row for record in found.records] == [2]
    if case.column == "household":
        assert all(issue.value in (HIDDEN, None) for issue in found.issues)


@pytest.mark.parametrize("kind", ["organizations", "sites", "inventory", "requests", "volunteers"])
def test_duplicate_key_in_one_file(kind: str, write_records: Callable[..., Path]) -> None:
    key = key_column(kind)
    rows = [{key: "K1", "household": "1"}, {key: "K2", "household": "2"}]
    rows.append({key: "K1", "household": "3"})
    path = write_records(kind, rows)
    _, found = validate_file(kind, path)
    [issue] = found.issues
    assert (issue.row, issue.column, issue.value) == (4, key, "K1")
    assert "duplicate of row 2" in issue.reason
    assert [r.row for r in found.records] == [2, 3]


def test_same_ref_in_two_organizations_is_fine(write_records: Callable[..., Path]) -> None:
    path = write_records("inventory", [{"org": "crt"}, {"org": "sanad"}])
    _, found = validate_file("inventory", path)
    assert found.ok
    assert [r.key for r in found.records] == [("crt", "L001"), ("sanad", "L001")]
