"""Reading import files: text cells, spreadsheet row numbers, one clear error per bad file."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest

from engine.imports.read import ImportFileError, read_table
from tests.imports.conftest import WriteFile


def test_csv_cells_are_text_as_written(tmp_path: Path) -> None:
    path = tmp_path / "lots.csv"
    path.write_bytes(
        '\ufeffref,qty,note\r\n007,0040, NA \r\n\r\n0.10,,"two\nlines"\r\n1e3,null,\r\n'.encode()
    )
    table = read_table(path)
    assert table.columns == ("ref", "qty", "note")  # the BOM is not part of "ref"
    assert [(row.number, row.values) for row in table.rows] == [
        (2, ("007", "0040", "NA")),  # leading zeros kept, "NA" is text, spaces stripped
        (4, ("0.10", None, "two\nlines")),  # the blank line 3 still counts
        (5, ("1e3", "null", None)),
    ]
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_short_rows_are_padded(write_file: WriteFile) -> None:
    path = write_file(["a", "b", "c"], [["1"], ["", "", ""], ["x", "y"]])
    table = read_table(path)
    assert [(r.number, r.values) for r in table.rows] == [
        (2, ("1", None, None)),
        (4, ("x", "y", None)),  # the empty row 3 is skipped, its number is not reused
    ]


def test_xlsx_typed_cells_become_the_formats_text(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ref", "quantity", "expires", "start", "lat", "flag", "extra"])
    sheet.append(["007", 40, date(2026, 12, 5), time(9, 30), 36.8065, True, None])
    sheet.append([None] * 7)
    sheet.append(["8", 3.0, datetime(2026, 12, 6, 0, 0), "17:00", 1e-7, "  x  ", None])
    sheet.cell(row=4, column=9, value="a note right of the header")
    book.create_sheet("second").append(["ignored"])
    path = tmp_path / "lots.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.columns == ("ref", "quantity", "expires", "start", "lat", "flag", "extra")
    assert [(r.number, r.values) for r in table.rows] == [
        (2, ("007", "40", "2026-12-05", "09:30", "36.8065", "true", None)),
        (4, ("8", "3", "2026-12-06", "17:00", "1e-07", "x", None)),
    ]


def test_header_only_is_no_rows(write_file: WriteFile) -> None:
    assert read_table(write_file(["code", "name"], [])).rows == ()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("lots.csv", b"", "the file is empty"),
        ("lots.csv", b"\n\n  \n", "the file is empty"),
        ("lots.csv", "ref,note\nL1,caf\u00e9\n".encode("latin-1"), "not UTF-8"),
        ("lots.csv", "ref\n".encode("utf-16"), "not UTF-8"),
        ("lots.csv", b"a,b\n1,2\n3,4,5\n", "row 3 has 3 cells but the header has 2"),
        ("lots.xlsx", b"a,b\n1,2\n", "not a readable XLSX workbook"),
        ("lots.xls", b"whatever", "not an import file (expected .csv or .xlsx)"),
        ("lots.json", b"{}", "not an import file"),
    ],
)
def test_unreadable_files_give_one_line_naming_the_file(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        read_table(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"missing\.csv: cannot read the file"):
        read_table(tmp_path / "missing.csv")


def test_empty_xlsx_sheet(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(ImportFileError, match="the file is empty"):
        read_table(path)


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "LOTS.CSV"
    path.write_text("a\n1\n", encoding="utf-8")
    assert read_table(path).rows[0].values == ("1",)
