"""Read an import file into rows of text, numbered as a spreadsheet shows them.

A file is ``.csv`` (UTF-8, comma-separated, header row; a byte-order mark is
tolerated) or ``.xlsx`` (the first sheet), as ``shared/spec/platform.md`` says.
Reading goes through pandas (XLSX with its ``calamine`` engine) with no type guessing
at all: every cell arrives as the text it shows, so an identifier such as ``007``
keeps its leading zeros and ``NA`` is the text "NA", not a missing value. Validation
(:mod:`engine.imports.validate`) parses numbers, dates and times itself, with its own
messages.

What a cell becomes:

* surrounding whitespace is stripped; an empty cell (or only whitespace) is ``None``;
* in an XLSX sheet, cells typed by the spreadsheet are written back as text the way
  the import formats expect them: a whole number as ``40`` (not ``40.0``), a date as
  ``2026-11-28``, a time of day as ``09:30``, other numbers in their shortest exact
  form (``36.8065``).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data
row is row 2, blank lines count (CSV), and a quoted CSV cell spanning several lines
is still one row. Entirely empty rows are skipped (spreadsheets often keep a few
formatted but empty rows at the end). A file with a header and no data row is valid
and holds no rows.

Anything that prevents reading the file (missing, unreadable, neither ``.csv`` nor
``.xlsx``, not UTF-8, not a workbook, no header row, a CSV row with more cells than
the header) raises one :class:`ImportFileError` whose message names the file. In an
XLSX sheet, cells right of the header's last column are ignored like extra columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError

SUFFIXES = (".csv", ".xlsx")
# pandas' C parser: "Expected 3 fields in line 5, saw 4" (line = record, 1-based).
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is one line naming the file."""


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its spreadsheet row number and its cells, aligned with the header."""

    number: int
    values: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """The content of one import file.

    ``columns`` are the header cells, stripped (``""`` for an empty header cell;
    duplicates are kept, validation reports them); each row's ``values`` has one
    entry per column. ``sha256`` is the hex digest of the file's bytes exactly as
    read (the import's audit event names the file by it).
    """

    name: str
    sha256: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


def read_table(path: str | Path) -> Table:
    """Read the ``.csv`` or ``.xlsx`` file at ``path``; :class:`ImportFileError` if unreadable."""
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportFileError(f"{name}: not an import file (expected .csv or .xlsx)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    grid = _csv_grid(name, data) if suffix == ".csv" else _xlsx_grid(name, data)
    if not grid or all(cell is None for cell in grid[0]):
        raise ImportFileError(f"{name}: the file is empty (no header row)")
    header = grid[0]
    while header and header[-1] is None:  # trailing empty header cells: no column
        header = header[:-1]
    width = len(header)
    columns = tuple("" if cell is None else cell.removeprefix("\ufeff") for cell in header)
    rows = []
    for index, cells in enumerate(grid[1:], start=2):
        # Cells right of the header's last name belong to no column: ignored, as
        # extra columns are (notes a user keeps beside the data).
        values = tuple(cells[:width]) + (None,) * (width - len(cells))
        if any(value is not None for value in values):
            rows.append(Row(index, values))
    return Table(name=name, sha256=digest, columns=columns, rows=tuple(rows))


def _clean(text: str) -> str | None:
    text = text.strip()
    return text or None


def _csv_grid(name: str, data: bytes) -> list[list[str | None]]:
    try:
        text = data.decode("utf-8-sig")  # strict: a Latin-1 or UTF-16 file is refused
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{name}: not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8"
        ) from None
    if not text.strip():
        raise ImportFileError(f"{name}: the file is empty (no header row)")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,  # every cell as text: no number or date guessing
            keep_default_na=False,
            na_filter=False,  # "NA", "null", "" stay text; "" becomes None below
            skip_blank_lines=False,  # keeps row numbers those of a spreadsheet
            sep=",",
            quoting=csv.QUOTE_MINIMAL,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        found = _RAGGED.search(str(exc))
        if found:
            expected, line, saw = found.groups()
            raise ImportFileError(
                f"{name}: row {line} has {saw} cells but the header has {expected}"
            ) from None
        raise ImportFileError(f"{name}: not a readable CSV file ({_first_line(exc)})") from None
    except pd.errors.EmptyDataError:
        raise ImportFileError(f"{name}: the file is empty (no header row)") from None
    return [[_clean(cell) for cell in row] for row in frame.to_numpy(dtype=object).tolist()]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _xlsx_grid(name: str, data: bytes) -> list[list[str | None]]:
    try:
        frame = pd.read_excel(
            io.BytesIO(data),
            sheet_name=0,
            header=None,
            dtype=object,  # the cells' own types, converted below: no guessing
            keep_default_na=False,
            na_filter=False,
            # calamine (Rust) reads a 100,000-row sheet about 8x faster than openpyxl
            # (5.5 s against 47 s, 2026-12-07, 2 loaded cores), with the same cell types.
            engine="calamine",
        )
    except (CalamineError, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ImportFileError(
            f"{name}: not a readable XLSX workbook ({_first_line(exc)})"
        ) from None
    except ValueError as exc:  # pandas/openpyxl report most malformed workbooks so
        raise ImportFileError(
            f"{name}: not a readable XLSX workbook ({_first_line(exc)})"
        ) from None
    return [[_cell_text(cell) for cell in row] for row in frame.to_numpy(dtype=object).tolist()]


def _cell_text(cell: object) -> str | None:
    """A typed spreadsheet cell as the text the import formats expect."""
    if cell is None:
        return None
    if isinstance(cell, str):
        return _clean(cell)
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        if math.isnan(cell):
            return None
        if cell.is_integer() and abs(cell) < 2**53:
            return str(int(cell))  # Excel stores every number as a float: 40.0 is 40
        return repr(cell)
    if isinstance(cell, datetime):
        if cell.time() == time(0, 0):
            return cell.date().isoformat()
        return cell.isoformat(sep=" ", timespec="minutes")
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, time):
        if cell.second or cell.microsecond:
            return cell.isoformat()
        return f"{cell.hour:02d}:{cell.minute:02d}"
    return _clean(str(cell))
