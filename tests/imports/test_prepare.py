"""Read, validate and geocode in one step; the header's problems stop the geocoding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.geocode import Geocoder, MemoryCache
from engine.imports.prepare import prepare
from tests.imports.nominatim import FakeNominatim

BY_ADDRESS = {"lat": "", "lon": "", "address": "Rue de Marseille 12, Tunis"}


def test_prepare_gives_records_with_coordinates(
    nominatim: FakeNominatim, write_records: Callable[..., Path]
) -> None:
    rows = [BY_ADDRESS, {"code": "W2", "name": ""}, {**BY_ADDRESS, "code": "W3", "address": "?"}]
    path = write_records("sites", rows)
    prepared = prepare("sites", path, geocoder=Geocoder(nominatim.url, MemoryCache()))
    assert [(r.row, r.lat) for r in prepared.records] == [(2, 36.8008)]
    assert [(i.row, i.column) for i in prepared.issues] == [(3, "name"), (4, "address")]
    assert prepared.table.name == str(path) and len(prepared.table.sha256) == 64


def test_a_bad_header_is_not_geocoded(
    nominatim: FakeNominatim, write_records: Callable[..., Path]
) -> None:
    path = write_records("sites", [BY_ADDRESS], drop=["name"])
    prepared = prepare("sites", path, geocoder=Geocoder(nominatim.url, MemoryCache()))
    assert [(i.row, i.column) for i in prepared.issues] == [(1, "name")]
    assert nominatim.queries == []


def test_without_geocoder_address_rows_are_bad(write_records: Callable[..., Path]) -> None:
    prepared = prepare("sites", write_records("sites", [BY_ADDRESS]))
    assert [i.reason for i in prepared.issues] == ["no geocoder configured"]
