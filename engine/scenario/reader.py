"""Read and validate a scenario in the exchange format, version 1.

The format is the public contract of ``jessr solve`` (``shared/spec/exchange-format.md``).
Validation stops at the first problem and raises :class:`ScenarioError` whose message
names the record, its id and the field, e.g.::

    requests[17] (id "R18"): quantity must be a positive integer, got -3
    policy.road_factor: must be a positive number, got "x"
    scenario: missing required field "supplies"

Record indexes are 0-based positions in their list. The id part is left out when the
record has no usable id (missing, empty or not a string).

Decisions where the spec leaves room (documented in the README):

* numbers are JSON numbers only: ``true``/``false`` and numeric strings are rejected;
  NaN and infinities are rejected. Integer fields (``quantity``, ``priority``,
  ``version``) accept JSON integers only, so ``2.0`` is rejected like ``2.5``.
* ``quantity`` is capped at 10^9 (:data:`MAX_QUANTITY`) so that solver arithmetic
  cannot overflow; integer literals beyond the float range are not numbers.
* an optional field set to ``null`` means the field is absent (its default applies).
* times are ``HH:MM`` with two-digit hours and minutes, from ``00:00`` to ``24:00``;
  a window or shift whose end equals its start is accepted (only end < start is an
  error); dates are strictly ``YYYY-MM-DD``.
* ``categories`` absent, ``null`` or ``[]`` means the built-in catalogue; a non-empty
  list replaces the catalogue entirely.
* ``policy.priority_weights`` may give any subset of the keys ``"1"``..``"5"``; the
  missing ones keep their defaults; any other key is an error.
* unknown keys (top level, per record, in ``policy``) are ignored, as the spec says.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, NoReturn

from engine.reference import default_categories
from engine.scenario.errors import ScenarioError
from engine.scenario.model import (
    DAY_END,
    DAY_START,
    DEFAULT_PRIORITY_WEIGHTS,
    Category,
    Policy,
    Request,
    Scenario,
    Supply,
    Volunteer,
)

FORMAT_VERSION = 1
DEFAULT_SPEED_KMH = 30.0
DEFAULT_UNIT = "unit"

# [0-9], not \d: \d also matches Arabic-Indic digits, which int() would happily accept.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2})")
_PRIORITY_KEYS = ("1", "2", "3", "4", "5")
_FLOAT_MAX = 1e308
# Far above any real stock, yet sums of 100,000 such quantities still fit the int64
# arithmetic of the flow solvers.
MAX_QUANTITY = 10**9


class _Bad(Exception):
    """A field problem, raised by the helpers and wrapped with the record's label."""


def _got(value: object) -> str:
    """The offending value as it looked in the JSON, shortened for one-line messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        try:
            text = repr(value)
        except ValueError:  # an int too long to print (Python's 4300-digit limit)
            text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _label(kind: str, index: int, rec: object) -> str:
    """``requests[17] (id "R18")``, or ``requests[17]`` when there is no usable id."""
    if isinstance(rec, dict):
        rid = rec.get("id")
        if isinstance(rid, str) and rid:
            return f"{kind}[{index}] (id {_quote(rid)})"
    return f"{kind}[{index}]"


def _is_number(value: object) -> bool:
    # bool is an int subclass in Python but never a number on the wire. A JSON integer
    # literal can exceed the float range (float() would then raise): not a usable number.
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _FLOAT_MAX


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- field helpers: each reads one key of a record and raises _Bad with the field's name


def _required(rec: dict[str, Any], key: str) -> Any:
    try:
        return rec[key]
    except KeyError:
        raise _Bad(f"missing required field {_quote(key)}") from None


def _nonempty_str(rec: dict[str, Any], key: str) -> str:
    value = _required(rec, key)
    if not isinstance(value, str) or not value:
        raise _Bad(f"{key} must be a non-empty string, got {_got(value)}")
    return value


def _positive_int(rec: dict[str, Any], key: str) -> int:
    value = _required(rec, key)
    if not _is_int(value) or value <= 0:
        raise _Bad(f"{key} must be a positive integer, got {_got(value)}")
    if value > MAX_QUANTITY:
        raise _Bad(f"{key} must be at most {MAX_QUANTITY}, got {_got(value)}")
    return value


def _positive_number(value: object, key: str) -> float:
    if not _is_number(value) or value <= 0:  # type: ignore[operator]
        raise _Bad(f"{key} must be a positive number, got {_got(value)}")
    return float(value)  # type: ignore[arg-type]


def _lat(rec: dict[str, Any]) -> float:
    value = _required(rec, "lat")
    if not _is_number(value) or not -90.0 <= value <= 90.0:
        raise _Bad(f"lat must be a number in [-90, 90], got {_got(value)}")
    return float(value)


def _lon(rec: dict[str, Any]) -> float:
    value = _required(rec, "lon")
    if not _is_number(value) or not -180.0 <= value <= 180.0:
        raise _Bad(f"lon must be a number in [-180, 180], got {_got(value)}")
    return float(value)


def _date(value: object, key: str, cache: dict[str, date]) -> date:
    if isinstance(value, str):
        hit = cache.get(value)
        if hit is not None:
            return hit
        if _DATE_RE.fullmatch(value):
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                cache[value] = parsed
                return parsed
    raise _Bad(f"{key} must be an ISO date YYYY-MM-DD, got {_got(value)}")


_TIME_CACHE: dict[str, int] = {}  # at most 1441 valid "HH:MM" strings


def _time(value: object, key: str) -> int:
    if isinstance(value, str):
        hit = _TIME_CACHE.get(value)
        if hit is not None:
            return hit
        match = _TIME_RE.fullmatch(value)
        if match:
            hours, minutes = int(match[1]), int(match[2])
            if (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0):
                _TIME_CACHE[value] = total = hours * 60 + minutes
                return total
    raise _Bad(f'{key} must be a time "HH:MM" from 00:00 to 24:00, got {_got(value)}')


def _interval(value: object, key: str) -> tuple[int, int]:
    """A ``["HH:MM", "HH:MM"]`` pair as minutes; end == start is allowed, end < start not."""
    if not isinstance(value, list) or len(value) != 2:
        raise _Bad(f'{key} must be a pair ["HH:MM", "HH:MM"], got {_got(value)}')
    start = _time(value[0], f"{key}[0]")
    end = _time(value[1], f"{key}[1]")
    if end < start:
        raise _Bad(f"{key} end {value[1]} precedes its start {value[0]}")
    return start, end


def _ids_unique(kind: str, index: int, rid: str, seen: dict[str, int]) -> None:
    first = seen.setdefault(rid, index)
    if first != index:
        raise _Bad(f"duplicate id {_quote(rid)} (first at {kind}[{first}])")


def _category_ref(rec: dict[str, Any], known: Mapping[str, Category], where: str) -> str:
    value = _nonempty_str(rec, "category")
    if value not in known:
        raise _Bad(f"category {_quote(value)} is unknown (not in {where})")
    return value


def _record_list(doc: dict[str, Any], key: str, source: str) -> list[Any]:
    value = doc[key]
    if not isinstance(value, list):
        raise ScenarioError(f"{source}: {key} must be a list, got {_got(value)}")
    return value


def _not_object(kind: str, index: int, rec: object) -> NoReturn:
    raise ScenarioError(f"{kind}[{index}]: must be an object, got {_got(rec)}")


# -- sections


def _parse_categories(doc: dict[str, Any], source: str) -> tuple[Mapping[str, Category], str]:
    """The scenario's category catalogue and how to name it in messages."""
    records = doc.get("categories")
    if records is None or records == []:
        return default_categories(), "the built-in catalogue"
    if not isinstance(records, list):
        raise ScenarioError(f"{source}: categories must be a list, got {_got(records)}")
    out: dict[str, Category] = {}
    seen: dict[str, int] = {}
    for index, rec in enumerate(records):
        if not isinstance(rec, dict):
            _not_object("categories", index, rec)
        try:
            cid = _nonempty_str(rec, "id")
            _ids_unique("categories", index, cid, seen)
            unit = rec.get("unit")
            if unit is None:
                unit = DEFAULT_UNIT
            elif not isinstance(unit, str) or not unit:
                raise _Bad(f"unit must be a non-empty string, got {_got(unit)}")
            weight = _positive_number(_required(rec, "weight_kg"), "weight_kg")
            perishable = rec.get("perishable")
            if perishable is None:
                perishable = False
            elif not isinstance(perishable, bool):
                raise _Bad(f"perishable must be true or false, got {_got(perishable)}")
            names = rec.get("names")
            if names is None:
                names = {}
            elif not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
                raise _Bad(f"names must be an object of strings, got {_got(names)}")
        except _Bad as bad:
            raise ScenarioError(f"{_label('categories', index, rec)}: {bad}") from None
        out[cid] = Category(
            id=cid,
            unit=unit,
            weight_kg=weight,
            perishable=perishable,
            names=MappingProxyType(dict(names)),
        )
    return MappingProxyType(out), "the scenario's categories"


def _parse_policy(doc: dict[str, Any]) -> Policy:
    raw = doc.get("policy")
    if raw is None:
        return Policy()
    if not isinstance(raw, dict):
        raise ScenarioError(f"policy: must be an object, got {_got(raw)}")
    defaults = Policy()
    values: dict[str, float] = {}
    for key, positive in (
        ("max_distance_km", True),
        ("road_factor", True),
        ("stop_minutes", False),
        ("unit_minutes", False),
    ):
        value = raw.get(key)
        if value is None:
            values[key] = getattr(defaults, key)
        elif not _is_number(value) or value < 0 or (positive and value == 0):
            kind = "a positive" if positive else "a non-negative"
            raise ScenarioError(f"policy.{key}: must be {kind} number, got {_got(value)}")
        else:
            values[key] = float(value)
    weights = dict(DEFAULT_PRIORITY_WEIGHTS)
    given = raw.get("priority_weights")
    if given is not None:
        if not isinstance(given, dict):
            raise ScenarioError(
                f'policy.priority_weights: must be an object with keys "1".."5", got {_got(given)}'
            )
        for key, value in given.items():
            where = f"policy.priority_weights[{_quote(key)}]"
            if key not in _PRIORITY_KEYS:
                raise ScenarioError(f'{where}: unknown priority, keys are "1".."5"')
            if not _is_number(value) or value <= 0:
                raise ScenarioError(f"{where}: must be a positive number, got {_got(value)}")
            weights[int(key)] = float(value)
    return Policy(priority_weights=MappingProxyType(weights), **values)


def _parse_supplies(
    records: list[Any], categories: Mapping[str, Category], where: str, dates: dict[str, date]
) -> tuple[Supply, ...]:
    out: list[Supply] = []
    seen: dict[str, int] = {}
    for index, rec in enumerate(records):
        if not isinstance(rec, dict):
            _not_object("supplies", index, rec)
        try:
            sid = _nonempty_str(rec, "id")
            _ids_unique("supplies", index, sid, seen)
            category = _category_ref(rec, categories, where)
            quantity = _positive_int(rec, "quantity")
            lat = _lat(rec)
            lon = _lon(rec)
            region = _nonempty_str(rec, "region")
            org = rec.get("org")
            if org is not None and not isinstance(org, str):
                raise _Bad(f"org must be a string, got {_got(org)}")
            expires = rec.get("expires")
            if expires is not None:
                expires = _date(expires, "expires", dates)
            regions = rec.get("regions")
            if regions is not None:
                if not isinstance(regions, list):
                    raise _Bad(f"regions must be a list of region codes, got {_got(regions)}")
                for position, code in enumerate(regions):
                    if not isinstance(code, str) or not code:
                        raise _Bad(
                            f"regions[{position}] must be a non-empty string, got {_got(code)}"
                        )
                regions = frozenset(regions)
        except _Bad as bad:
            raise ScenarioError(f"{_label('supplies', index, rec)}: {bad}") from None
        out.append(Supply(sid, category, quantity, lat, lon, region, org, expires, regions))
    return tuple(out)


def _parse_requests(
    records: list[Any],
    categories: Mapping[str, Category],
    where: str,
    plan_date: date,
    dates: dict[str, date],
) -> tuple[Request, ...]:
    out: list[Request] = []
    seen: dict[str, int] = {}
    whole_day = (DAY_START, DAY_END)
    for index, rec in enumerate(records):
        if not isinstance(rec, dict):
            _not_object("requests", index, rec)
        try:
            rid = _nonempty_str(rec, "id")
            _ids_unique("requests", index, rid, seen)
            category = _category_ref(rec, categories, where)
            quantity = _positive_int(rec, "quantity")
            lat = _lat(rec)
            lon = _lon(rec)
            region = _nonempty_str(rec, "region")
            priority = _required(rec, "priority")
            if not _is_int(priority) or not 1 <= priority <= 5:
                raise _Bad(f"priority must be an integer from 1 to 5, got {_got(priority)}")
            filed = rec.get("filed")
            filed = plan_date if filed is None else _date(filed, "filed", dates)
            window = rec.get("window")
            window = whole_day if window is None else _interval(window, "window")
        except _Bad as bad:
            raise ScenarioError(f"{_label('requests', index, rec)}: {bad}") from None
        out.append(Request(rid, category, quantity, lat, lon, region, priority, filed, window))
    return tuple(out)


def _parse_volunteers(records: list[Any]) -> tuple[Volunteer, ...]:
    out: list[Volunteer] = []
    seen: dict[str, int] = {}
    for index, rec in enumerate(records):
        if not isinstance(rec, dict):
            _not_object("volunteers", index, rec)
        try:
            vid = _nonempty_str(rec, "id")
            _ids_unique("volunteers", index, vid, seen)
            lat = _lat(rec)
            lon = _lon(rec)
            capacity = _positive_number(_required(rec, "capacity_kg"), "capacity_kg")
            shift = _interval(_required(rec, "shift"), "shift")
            speed = rec.get("speed_kmh")
            speed = DEFAULT_SPEED_KMH if speed is None else _positive_number(speed, "speed_kmh")
        except _Bad as bad:
            raise ScenarioError(f"{_label('volunteers', index, rec)}: {bad}") from None
        out.append(Volunteer(vid, lat, lon, capacity, shift, speed))
    return tuple(out)


def parse_scenario(doc: object, *, source: str = "scenario") -> Scenario:
    """Validate a decoded JSON document and build the frozen :class:`Scenario`.

    ``source`` names the document in top-level messages (``scenario: missing required
    field "supplies"``). Raises :class:`ScenarioError` on the first problem found; the
    check order is: top-level required fields, ``version``, ``date``, ``categories``,
    ``policy``, ``supplies``, ``requests``, ``volunteers``, each list in order.
    """
    if not isinstance(doc, dict):
        raise ScenarioError(f"{source}: must be a JSON object, got {_got(doc)}")
    for key in ("version", "date", "supplies", "requests"):
        if key not in doc:
            raise ScenarioError(f"{source}: missing required field {_quote(key)}")
    version = doc["version"]
    if not _is_int(version) or version != FORMAT_VERSION:
        raise ScenarioError(f"{source}: version must be {FORMAT_VERSION}, got {_got(version)}")
    dates: dict[str, date] = {}
    try:
        plan_date = _date(doc["date"], "date", dates)
    except _Bad as bad:
        raise ScenarioError(f"{source}: {bad}") from None
    categories, where = _parse_categories(doc, source)
    policy = _parse_policy(doc)
    supplies = _parse_supplies(_record_list(doc, "supplies", source), categories, where, dates)
    requests = _parse_requests(
        _record_list(doc, "requests", source), categories, where, plan_date, dates
    )
    volunteers: tuple[Volunteer, ...] = ()
    if doc.get("volunteers") is not None:
        volunteers = _parse_volunteers(_record_list(doc, "volunteers", source))
    return Scenario(
        date=plan_date,
        categories=categories,
        supplies=supplies,
        requests=requests,
        volunteers=volunteers,
        policy=policy,
        version=version,
    )


def _reject_constant(name: str) -> NoReturn:
    # Python's json accepts NaN/Infinity; JSON does not, and they would poison arithmetic.
    raise ValueError(f"{name} is not valid JSON")


def read_json_file(path: str | os.PathLike[str]) -> object:
    """Read a UTF-8 JSON file; any read or syntax problem becomes a :class:`ScenarioError`.

    The message names the file and, for a syntax error, the line and column. A UTF-8
    byte-order mark is tolerated (some Windows tools write one).
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ScenarioError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{name}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # from _reject_constant
        raise ScenarioError(f"{name}: malformed JSON: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{name}: malformed JSON: nested too deeply") from None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file (UTF-8 JSON); raises :class:`ScenarioError`."""
    return parse_scenario(read_json_file(path))
