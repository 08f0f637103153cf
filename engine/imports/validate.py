"""Validate an import file as a whole: every bad cell of every row, at once.

:func:`validate` takes a :class:`~engine.imports.read.Table` and returns the typed
records of the good rows plus an :class:`~engine.imports.issues.ImportIssue` for each
problem (lazy validation, as pandera's ``lazy=True``): a file is rejected if any issue
is found, and the user sees them all in one go. The good rows' records are returned
even then, so that the database layer can add its own issues (unknown organization,
a household's duplicate request in another organization) to the same report.

Values follow the exchange format (``shared/spec/exchange-format.md``) with its limits
and messages (:mod:`engine.scenario.rules`); what is particular to a spreadsheet cell:

* numbers are written with a decimal point (``36.8065``; ``36,8`` is refused with a
  hint); integer columns (``quantity``, ``priority``) take whole numbers only;
* dates are ``YYYY-MM-DD``; times ``HH:MM`` (a one-digit hour ``9:30`` is accepted)
  from ``00:00`` to ``24:00``;
* ``region`` and ``regions`` items are ISO 3166-2 codes of ``data/regions/``, upper
  case (``tn-11`` is read as ``TN-11``); ``regions`` and ``days`` are ``;``-separated
  (empty items ignored); ``days`` items are ISO dates or ``mon`` … ``sun`` (case-
  insensitive, full English names accepted too);
* ``category`` is an id of the catalogue ``data/categories.json``;
* ``org``: with ``org`` given (the CLI's ``--org``), a file without that column takes
  it for every row, a file with it takes it for rows whose cell is empty, and a row
  naming another organization is a bad row;
* a row's place: ``lat``+``lon`` (both or neither) or else ``address`` (geocoded
  later); inventory: ``site`` or else ``lat``+``lon``+``region`` (not both);
* ``window_start`` alone means "until the end of the day", ``window_end`` alone "from
  the start of the day"; an end before its start is a bad row (``shift`` likewise);
* a key (``(org, ref)``, sites ``(org, code)``, organizations ``code``) seen before in
  the file makes the later row bad;
* requests: two rows of one household (normalised as
  :func:`engine.households.normalise` does) for one category, filed less than
  ``duplicate_window_days`` apart, make the later row bad (the database layer
  applies the same rule against stored open requests of every organization);
* a header naming a column twice, or missing a required column, is reported once,
  at row 1; the rows' cells in that column are then not reported again.

The ``household`` value is never echoed: its issues show ``"(hidden)"``, and so does
any issue of the row whose value holds the household identifier (compared
normalised; an ID typed into another column, or inside another value, when it is at
least 4 characters long). Within a row, issues follow the schema's column order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from engine.households import normalise
from engine.imports.issues import HIDDEN, ImportIssue, echo
from engine.imports.read import Table, read_table
from engine.imports.records import (
    LotRecord,
    OrganizationRecord,
    Record,
    RequestRecord,
    SiteRecord,
    VolunteerRecord,
)
from engine.imports.schemas import HOUSEHOLD, Kind, Schema, schema
from engine.reference import default_categories, regions
from engine.scenario import rules
from engine.scenario.model import DAY_END, DAY_START

DUPLICATE_WINDOW_DAYS = 14
MAX_NAME = 200  # names of people, organizations, sites, donors
MAX_ADDRESS = 500
MAX_PHONE = 32
MAX_VEHICLE = 50

_INT_RE = re.compile(r"[+-]?[0-9]+")  # [0-9], not \d: \d matches any script's digits
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COMMA_RE = re.compile(r"[+-]?[0-9]*,[0-9]+")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_PHONE_RE = re.compile(r"\+?[0-9 ().\-/]+")
_CC_RE = re.compile(r"[A-Z]{2}")
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}


class _Bad(Exception):
    """A cell's problem; the message is the issue's reason."""


@dataclass(frozen=True, slots=True)
class Validated:
    """What :func:`validate` found: the good rows' records and every issue."""

    kind: Kind
    records: tuple[Record, ...]
    issues: tuple[ImportIssue, ...]

    @property
    def ok(self) -> bool:
        """No issue: the file may be applied."""
        return not self.issues


# -- cell parsers: text -> value, or _Bad(reason)


def _reason(message: str) -> str:
    # The rules' messages end in ", got <value>"; a report shows the value apart.
    return message.partition(", got ")[0]


def _numeric(text: str) -> object:
    """An int or float when ``text`` is written as one, else ``text`` itself."""
    if len(text) <= 40:  # longer digit strings are no usable number (int() caps at 4300)
        if _INT_RE.fullmatch(text):
            return int(text)
        if _NUM_RE.fullmatch(text):
            return float(text)
    return text


def _check(rule: rules.Rule, value: object, text: str) -> None:
    message = rule(value)
    if message is not None:
        reason = _reason(message)
        if isinstance(value, str) and _COMMA_RE.fullmatch(text):
            reason += " (write decimals with a point: 36.8, not 36,8)"
        raise _Bad(reason)


def _number(rule: rules.Rule) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _numeric(text)
        _check(rule, value, text)
        return float(value)  # type: ignore[arg-type]

    return parse


def _integer(rule: rules.Rule) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _numeric(text)
        _check(rule, value, text)
        return int(value)  # type: ignore[call-overload]

    return parse


def _code(text: str) -> str:
    _check(rules.text, text, text)
    return text


def _free(limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) > limit:
            raise _Bad(f"must be at most {limit} characters, got {len(text)}")
        return text

    return parse


@cache
def _country_regions(country: str) -> frozenset[str]:
    try:
        return frozenset(regions(country))
    except FileNotFoundError:
        return frozenset()


def known_region(code: str) -> bool:
    """Whether ``code`` is an ISO 3166-2 code of the shipped ``data/regions/`` files."""
    country = code.partition("-")[0]
    return bool(_CC_RE.fullmatch(country)) and code in _country_regions(country)


def _region(text: str) -> str:
    code = text.upper()
    if not known_region(code):
        raise _Bad("unknown region (expected an ISO 3166-2 code of data/regions, e.g. TN-11)")
    return code


def _regions(text: str) -> tuple[str, ...]:
    codes = []
    for item in text.split(";"):
        code = item.strip().upper()
        if not code:
            continue
        if not known_region(code):
            raise _Bad(f"unknown region {rules.quote(item.strip())} (expected ISO 3166-2 codes)")
        codes.append(code)
    if not codes:
        raise _Bad("must list region codes separated by ';'")
    return tuple(sorted(set(codes)))


# The catalogue the ``category`` column is checked against while a file is validated:
# the database's when an import runs on one (``prepare(categories=...)``, the
# categories an admin added included), else the shipped ``data/categories.json``.
CATALOGUE: ContextVar[Collection[str] | None] = ContextVar("import_catalogue", default=None)


def _category(text: str) -> str:
    known = CATALOGUE.get()
    if known is None:
        if text not in default_categories():
            raise _Bad("unknown category (not in the catalogue data/categories.json)")
    elif text not in known:
        raise _Bad("unknown category (not in the database's catalogue)")
    return text


def _parse_date(text: str) -> date | None:
    if _DATE_RE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _date(text: str) -> date:
    parsed = _parse_date(text)
    if parsed is None:
        raise _Bad("must be a date YYYY-MM-DD")
    return parsed


def _time(text: str) -> int:
    match = _TIME_RE.fullmatch(text)
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0):
            return hours * 60 + minutes
    raise _Bad("must be a time HH:MM from 00:00 to 24:00")


def _days(text: str) -> tuple[tuple[date, ...], tuple[int, ...]]:
    dates: set[date] = set()
    weekdays: set[int] = set()
    for item in text.split(";"):
        word = item.strip().casefold()
        if not word:
            continue
        if word in _WEEKDAYS:
            weekdays.add(_WEEKDAYS[word])
            continue
        parsed = _parse_date(word)
        if parsed is None:
            raise _Bad(
                f"item {rules.quote(item.strip())} is neither a date YYYY-MM-DD "
                "nor a weekday mon, tue, wed, thu, fri, sat, sun"
            )
        dates.add(parsed)
    return tuple(sorted(dates)), tuple(sorted(weekdays))


def _phone(text: str) -> str:
    if len(text) > MAX_PHONE or not _PHONE_RE.fullmatch(text):
        raise _Bad(f"must be a phone number: digits, spaces, + - ( ) . / (at most {MAX_PHONE})")
    return text


def _household(text: str) -> str:
    if len(text) > rules.MAX_TEXT_LENGTH:
        raise _Bad(f"must be at most {rules.MAX_TEXT_LENGTH} characters, got {len(text)}")
    try:
        normalise(text)
    except ValueError:
        raise _Bad("must contain letters or digits") from None
    return text


_PARSERS: Mapping[str, Callable[[str], Any]] = {
    "org": _code,
    "ref": _code,
    "code": _code,
    "parent": _code,
    "site": _code,
    "name": _free(MAX_NAME),
    "donor": _free(MAX_NAME),
    "address": _free(MAX_ADDRESS),
    "vehicle": _free(MAX_VEHICLE),
    "region": _region,
    "regions": _regions,
    "category": _category,
    "quantity": _integer(rules.quantity),
    "priority": _integer(rules.priority),
    "lat": _number(rules.lat),
    "lon": _number(rules.lon),
    "capacity_kg": _number(rules.capacity_kg),
    "speed_kmh": _number(rules.speed_kmh),
    "expires": _date,
    "received": _date,
    "filed": _date,
    "window_start": _time,
    "window_end": _time,
    "shift_start": _time,
    "shift_end": _time,
    "days": _days,
    "phone": _phone,
    HOUSEHOLD: _household,
}


# -- the whole file


class _Row:
    """One row's cells: raw text, parsed values, and the row's problems."""

    __slots__ = ("number", "problems", "raw", "values")

    def __init__(self, number: int) -> None:
        self.number = number
        self.raw: dict[str, str | None] = {}  # column in the header -> cell text
        self.values: dict[str, Any] = {}  # column -> parsed value (good, non-empty cells)
        self.problems: list[tuple[str, str | None, str]] = []  # (column, cell, reason)

    def add(self, column: str, value: str | None, reason: str) -> None:
        self.problems.append((column, value, reason))

    def has(self, column: str) -> bool:
        return self.raw.get(column) is not None

    def good(self, *columns: str) -> bool:
        return all(column in self.values for column in columns)

    def issues(self, order: Mapping[str, int]) -> list[ImportIssue]:
        """The problems as issues in column order, household identifiers hidden."""
        household = self.raw.get(HOUSEHOLD)
        hidden = _hidden_form(household) if household is not None else None
        out = []
        for column, value, reason in sorted(self.problems, key=lambda p: order.get(p[0], 99)):
            if value is not None and (
                column == HOUSEHOLD or (hidden is not None and _reveals(value, hidden))
            ):
                shown: str | None = HIDDEN
            else:
                shown = echo(value)
            out.append(ImportIssue(self.number, column, shown, reason))
        return out


_MIN_HIDDEN = 4  # shorter identifiers are hidden only where a value equals them


def _hidden_form(household: str) -> str:
    try:
        return normalise(household)
    except ValueError:
        return household


def _reveals(value: str, hidden: str) -> bool:
    """Whether a cell shows the household identifier (whole, or inside it)."""
    try:
        seen = normalise(value)
    except ValueError:
        return False
    return seen == hidden or (len(hidden) >= _MIN_HIDDEN and hidden in seen)


def validate(
    kind: Kind | str,
    table: Table,
    *,
    org: str | None = None,
    duplicate_window_days: int = DUPLICATE_WINDOW_DAYS,
    today: date | None = None,
) -> Validated:
    """Check every row of ``table`` as a file of ``kind``; see the module docstring.

    ``org`` fills the ``org`` column (``--org``; ignored for organizations files).
    ``today`` stands for a request's ``filed`` date when the cell is empty (the
    household duplicate rule); default: the current date.
    """
    spec = schema(kind)
    if org is not None and (message := rules.text(org)) is not None:
        raise ValueError(f"--org {_reason(message)}")
    fill = org if spec.kind is not Kind.ORGANIZATIONS else None
    issues, positions = _header(spec, table, fill)
    today = today or date.today()
    build = _BUILDERS[spec.kind]
    order = {name: position for position, name in enumerate(spec.columns)}
    records: list[Record] = []
    first_of_key: dict[tuple[Any, ...], int] = {}
    households: dict[tuple[str, str], list[tuple[date, int, str]]] = {}
    for row in table.rows:
        cells = _Row(row.number)
        for name, position in positions.items():
            cell = row.values[position]
            if name == "org" and fill is not None:
                if cell is None:
                    cell = fill
                elif cell != fill:
                    cells.raw[name] = cell
                    cells.add(name, cell, f"does not match --org {rules.quote(fill)}")
                    continue
            cells.raw[name] = cell
            if cell is None:
                if name in spec.required:
                    cells.add(name, None, "missing value")
                continue
            try:
                cells.values[name] = _PARSERS[name](cell)
            except _Bad as bad:
                cells.add(name, cell, str(bad))
        if fill is not None and "org" not in positions:
            cells.raw["org"] = fill
            cells.values["org"] = fill
        record = build(cells, positions)
        _check_key(spec, cells, first_of_key)
        if spec.kind is Kind.REQUESTS:
            _check_household(cells, households, duplicate_window_days, today)
        if cells.problems:
            issues.extend(cells.issues(order))
        elif record is not None:
            records.append(record)
    return Validated(spec.kind, tuple(records), tuple(issues))


def validate_file(
    kind: Kind | str,
    path: str | Path,
    *,
    org: str | None = None,
    duplicate_window_days: int = DUPLICATE_WINDOW_DAYS,
    today: date | None = None,
) -> tuple[Table, Validated]:
    """:func:`read_table` then :func:`validate`; the table carries the file's SHA-256."""
    table = read_table(path)
    return table, validate(
        kind, table, org=org, duplicate_window_days=duplicate_window_days, today=today
    )


def _header(
    spec: Schema, table: Table, fill: str | None
) -> tuple[list[ImportIssue], dict[str, int]]:
    """Issues of the header (row 1) and the position of each column the kind reads."""
    issues: list[ImportIssue] = []
    counts = Counter(table.columns)
    positions: dict[str, int] = {}
    by_lower = {column.lower(): column for column in table.columns}
    for name in spec.columns:
        if counts[name] > 1:
            issues.append(
                ImportIssue(1, name, None, f"column appears {counts[name]} times in the header")
            )
        elif counts[name] == 1:
            positions[name] = table.columns.index(name)
    for name in spec.required:
        if name in counts or (name == "org" and fill is not None):
            continue
        reason = "missing required column"
        if name == "org":
            reason += " (or give --org)"
        issues.append(ImportIssue(1, name, None, reason + _case_hint(name, by_lower)))
    if spec.places and not any(all(c in counts for c in group) for group in spec.places):
        wanted = " or ".join("+".join(group) for group in spec.places)
        missing = next(c for group in spec.places for c in group if c not in counts)
        issues.append(
            ImportIssue(
                1,
                missing,
                None,
                f"missing place columns: the header needs {wanted}" + _case_hint(missing, by_lower),
            )
        )
    return issues, positions


def _case_hint(name: str, by_lower: Mapping[str, str]) -> str:
    found = by_lower.get(name)
    if found is None:
        return ""
    return f' (found "{found}": header names are exact and lower case)'


def _check_key(spec: Schema, cells: _Row, first_of_key: dict[tuple[Any, ...], int]) -> None:
    if not cells.good(*spec.key):
        return
    key = tuple(cells.values[c] for c in spec.key)
    first = first_of_key.setdefault(key, cells.number)
    if first != cells.number:
        what = " and ".join(spec.key)
        column = spec.key[-1]
        cells.add(column, cells.raw[column], f"duplicate of row {first} (same {what})")


def _check_household(
    cells: _Row,
    seen: dict[tuple[str, str], list[tuple[date, int, str]]],
    window_days: int,
    today: date,
) -> None:
    if not cells.good(HOUSEHOLD, "category"):
        return
    filed = cells.values.get("filed") or today
    key = (normalise(cells.values[HOUSEHOLD]), cells.values["category"])
    earlier = seen.setdefault(key, [])
    for other_filed, other_row, other_ref in earlier:
        if abs((filed - other_filed).days) < window_days:
            cells.add(
                HOUSEHOLD,
                cells.raw[HOUSEHOLD],
                f"same household and category as row {other_row} (ref "
                f"{rules.quote(other_ref)}), filed less than {window_days} days apart",
            )
            return
    # Named ORG/REF: the other row may be another organization's request.
    earlier.append(
        (filed, cells.number, f"{cells.values.get('org', '')}/{cells.values.get('ref', '')}")
    )


# -- rows to records (each also checks what spans the row's cells)


def _latlon_or_address(cells: _Row, positions: Mapping[str, int]) -> None:
    """Require ``lat``+``lon`` or ``address`` in the row (when the header has a way)."""
    if not ({"lat", "lon"} <= positions.keys() or "address" in positions):
        return  # reported once in the header
    if cells.has("lat") and cells.has("lon"):
        return
    if cells.has("lat") or cells.has("lon"):
        missing = "lon" if cells.has("lat") else "lat"
        cells.add(missing, None, "missing value (lat and lon go together)")
    elif not cells.has("address"):
        column = "lat" if "lat" in positions else "address"
        cells.add(column, None, "missing place: give lat and lon, or address")


def _interval(cells: _Row, start: str, end: str, default: tuple[int, int]) -> tuple[int, int]:
    low = cells.values.get(start, default[0])
    high = cells.values.get(end, default[1])
    if cells.has(start) and cells.has(end) and cells.good(start, end):
        message = rules.interval((low, high))
        if message is not None:
            cells.add(end, cells.raw[end], message)
    return low, high


def _organization(cells: _Row, positions: Mapping[str, int]) -> Record | None:
    v = cells.values
    if v.get("parent") is not None and v.get("parent") == v.get("code"):
        cells.add("parent", cells.raw["parent"], "an organization cannot be its own parent")
    if cells.problems or not cells.good("code", "name", "region"):
        return None
    return OrganizationRecord(cells.number, v["code"], v["name"], v["region"], v.get("parent"))


def _site(cells: _Row, positions: Mapping[str, int]) -> Record | None:
    _latlon_or_address(cells, positions)
    v = cells.values
    if cells.problems or not cells.good("org", "code", "name", "region"):
        return None
    return SiteRecord(
        cells.number,
        v["org"],
        v["code"],
        v["name"],
        v["region"],
        v.get("lat"),
        v.get("lon"),
        v.get("address"),
    )


def _lot(cells: _Row, positions: Mapping[str, int]) -> Record | None:
    coordinates = ("lat", "lon", "region")
    if cells.has("site"):
        for column in coordinates:
            if cells.has(column):
                cells.add(
                    column,
                    cells.raw[column],
                    "must be empty when site is given (the lot is at its site)",
                )
    elif set(coordinates) <= positions.keys():
        for column in coordinates:
            if not cells.has(column):
                cells.add(column, None, "missing value (give site, or lat, lon and region)")
    elif "site" in positions:
        cells.add("site", None, "missing value (give site, or lat, lon and region)")
    v = cells.values
    if cells.problems or not cells.good("org", "ref", "category", "quantity"):
        return None
    return LotRecord(
        cells.number,
        v["org"],
        v["ref"],
        v["category"],
        v["quantity"],
        v.get("site"),
        v.get("lat"),
        v.get("lon"),
        v.get("region"),
        expires=v.get("expires"),
        regions=v.get("regions"),
        donor=v.get("donor"),
        received=v.get("received"),
    )


def _request(cells: _Row, positions: Mapping[str, int]) -> Record | None:
    _latlon_or_address(cells, positions)
    window = _interval(cells, "window_start", "window_end", (DAY_START, DAY_END))
    v = cells.values
    required = ("org", "ref", HOUSEHOLD, "category", "quantity", "priority", "region")
    if cells.problems or not cells.good(*required):
        return None
    given = cells.has("window_start") or cells.has("window_end")
    return RequestRecord(
        cells.number,
        v["org"],
        v["ref"],
        v[HOUSEHOLD],
        v["category"],
        v["quantity"],
        v["priority"],
        v["region"],
        v.get("lat"),
        v.get("lon"),
        address=v.get("address"),
        filed=v.get("filed"),
        window=window if given else None,
        phone=v.get("phone"),
        name=v.get("name"),
    )


def _volunteer(cells: _Row, positions: Mapping[str, int]) -> Record | None:
    shift = _interval(cells, "shift_start", "shift_end", (DAY_START, DAY_END))
    v = cells.values
    required = ("org", "ref", "name", "lat", "lon", "capacity_kg", "shift_start", "shift_end")
    if cells.problems or not cells.good(*required):
        return None
    dates, weekdays = v.get("days", ((), ()))
    return VolunteerRecord(
        cells.number,
        v["org"],
        v["ref"],
        v["name"],
        v["lat"],
        v["lon"],
        v["capacity_kg"],
        shift,
        speed_kmh=v.get("speed_kmh"),
        phone=v.get("phone"),
        vehicle=v.get("vehicle"),
        dates=dates,
        weekdays=weekdays,
    )


_BUILDERS: Mapping[Kind, Callable[[_Row, Mapping[str, int]], Record | None]] = {
    Kind.ORGANIZATIONS: _organization,
    Kind.SITES: _site,
    Kind.INVENTORY: _lot,
    Kind.REQUESTS: _request,
    Kind.VOLUNTEERS: _volunteer,
}
