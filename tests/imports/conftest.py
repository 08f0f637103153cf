"""Factories writing small import files (CSV or XLSX) and valid rows of each kind."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import openpyxl
import pytest

from tests.imports.nominatim import nominatim  # noqa: F401 -- the fake Nominatim fixture

Cell = object
WriteFile = Callable[..., Path]

# One valid row per kind, every column the spec lists (optional ones filled).
VALID: Mapping[str, Mapping[str, str]] = {
    "organizations": {"code": "crt", "name": "Croissant-Rouge", "region": "TN-11", "parent": ""},
    "sites": {
        "org": "crt",
        "code": "W1",
        "name": "Entrepôt Tunis",
        "region": "TN-11",
        "lat": "36.8065",
        "lon": "10.1815",
        "address": "",
    },
    "inventory": {
        "org": "crt",
        "ref": "L001",
        "category": "food.basket",
        "quantity": "40",
        "site": "",
        "lat": "36.8065",
        "lon": "10.1815",
        "region": "TN-11",
        "expires": "2026-12-05",
        "regions": "TN-11;TN-42",
        "donor": "Boulangerie Ben Ali",
        "received": "2026-11-20",
    },
    "requests": {
        "org": "crt",
        "ref": "R001",
        "household": "08123456",
        "category": "food.basket",
        "quantity": "1",
        "priority": "4",
        "region": "TN-42",
        "lat": "35.1676",
        "lon": "8.8365",
        "address": "",
        "filed": "2026-11-20",
        "window_start": "09:00",
        "window_end": "17:00",
        "phone": "+216 71 000 000",
        "name": "Famille Trabelsi",
    },
    "volunteers": {
        "org": "crt",
        "ref": "V001",
        "name": "Sami",
        "lat": "36.80",
        "lon": "10.18",
        "capacity_kg": "400",
        "shift_start": "08:00",
        "shift_end": "14:00",
        "speed_kmh": "40",
        "phone": "+216 98 000 000",
        "vehicle": "van",
        "days": "mon;wed;2026-11-28",
    },
}
KEYS = {"organizations": "code", "sites": "code"}  # the column that varies between rows


def key_column(kind: str) -> str:
    """The column whose value identifies a row within one org (``ref`` or ``code``)."""
    return KEYS.get(kind, "ref")


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Path:
    """Write ``header`` and ``rows`` to ``path`` (.csv UTF-8, or .xlsx first sheet)."""
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(list(header))
        for row in rows:
            sheet.append([None if cell == "" else cell for cell in row])
        book.save(path)
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return path


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """``write_file(header, rows, fmt="csv", name="data")`` -> the path of a new file."""
    counter = iter(range(10**6))

    def write(
        header: Sequence[str], rows: Sequence[Sequence[Cell]], fmt: str = "csv", name: str = ""
    ) -> Path:
        stem = name or f"file{next(counter)}"
        return write_rows(tmp_path / f"{stem}.{fmt}", header, rows)

    return write


@pytest.fixture
def write_records(write_file: WriteFile) -> Callable[..., Path]:
    """``write_records(kind, [dict, ...], fmt=..., drop=(...))``: rows from dicts.

    Each dict overrides the kind's valid row; columns in ``drop`` leave the header.
    """

    def write(
        kind: str,
        rows: Sequence[Mapping[str, str]],
        fmt: str = "csv",
        drop: Sequence[str] = (),
    ) -> Path:
        header = [c for c in VALID[kind] if c not in drop]
        full = [{**VALID[kind], **row} for row in rows]
        return write_file(header, [[r[c] for c in header] for r in full], fmt)

    return write
