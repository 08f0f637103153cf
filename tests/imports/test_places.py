"""Rows given by address get the geocoder's coordinates, or a bad-row issue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.geocode import Geocoder, MemoryCache
from engine.imports.places import locate
from engine.imports.validate import validate_file
from tests.imports.nominatim import FakeNominatim


def test_locate_fills_coordinates_and_reports_unknown_addresses(
    nominatim: FakeNominatim, write_records: Callable[..., Path]
) -> None:
    by_address = {"lat": "", "lon": ""}
    rows = [
        {"ref": "R1", "household": "1", **by_address, "address": "Rue de Marseille 12, Tunis"},
        {"ref": "R2", "household": "2"},  # coordinates given: not geocoded
        {"ref": "R3", "household": "3", **by_address, "address": "Nulle Part 1"},
        {"ref": "R4", "household": "4", **by_address, "address": "Sfax"},
    ]
    _, found = validate_file("requests", write_records("requests", rows))
    assert found.ok
    records, issues = locate(found.records, Geocoder(nominatim.url, MemoryCache()))
    assert [(r.ref, r.lat, r.lon) for r in records] == [
        ("R1", 36.8008, 10.1817),
        ("R2", 35.1676, 8.8365),
    ]
    assert [str(i) for i in issues] == [
        'row 4, column address, value "Nulle Part 1": address not found: "Nulle Part 1"',
        'row 5, column address, value "Sfax": address not found: "Sfax" (only a town or '
        'region matched: "Sfax, Tunisie")',
    ]


def test_without_a_geocoder_every_address_row_is_bad(write_records: Callable[..., Path]) -> None:
    row = {"lat": "", "lon": "", "address": "Rue de Rome, Tunis"}
    _, found = validate_file("sites", write_records("sites", [row, {"code": "W2"}]))
    records, issues = locate(found.records, Geocoder(None, MemoryCache()))
    assert [r.code for r in records] == ["W2"]
    assert [(i.row, i.column, i.reason) for i in issues] == [
        (2, "address", "no geocoder configured")
    ]
