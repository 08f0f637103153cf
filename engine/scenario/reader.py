"""Read and validate a scenario in the exchange format, version 1.

The format is the public contract of ``jessr solve`` (``shared/spec/exchange-format.md``).
Validation goes through the whole file and raises one :class:`ScenarioError` holding
every problem found (``error.issues``, in file order); each names the record, its id and
the field, e.g.::

    requests[17] (id "R18"): quantity must be a positive integer, got -3
    policy.road_factor: must be a positive number, got "x"
    scenario: missing required field "supplies"

Record indexes are 0-based positions in their list. The id part is left out when the
record has no usable id (missing, empty or not a string). A record reports each of its
bad fields once; a record that is not an object, or a list that is not a list, is one
problem. The value rules and limits are those of the records themselves
(:mod:`engine.scenario.rules`, applied again by the dataclasses' construction); this
module adds what is particular to JSON.

Decisions where the spec leaves room (documented in the README):

* numbers are JSON numbers only: ``true``/``false`` and numeric strings are rejected;
  NaN and infinities are rejected. Integer fields (``quantity``, ``priority``,
  ``version``) accept JSON integers only, so ``2.0`` is rejected like ``2.5``.
* values must lie within the engine's limits (:mod:`engine.scenario.rules`: e.g.
  ``quantity`` at most 10^9, ``capacity_kg`` at most 10^6); ``max_distance_km`` above
  20,016 km means no limit. Integer literals beyond the float range are not numbers.
* ids and codes are at most 200 characters of valid Unicode (a ``"\ud800"`` escape, a
  lone surrogate, is refused); echoed strings are cut to 40 characters plus "…".
* an optional field set to ``null`` means the field is absent (its default applies).
* times are ``HH:MM`` with two-digit hours and minutes, from ``00:00`` to ``24:00``;
  a window or shift whose end equals its start is accepted (only end < start is an
  error); dates are strictly ``YYYY-MM-DD``.
* ``categories`` absent, ``null`` or ``[]`` means the built-in catalogue; a non-empty
  list replaces the catalogue entirely.
* ``policy.priority_weights`` may give any subset of the keys ``"1"``..``"5"``; the
  missing ones keep their defaults; any other key is an error.
* unknown keys (top level, per record, in ``policy``) are ignored, as the spec says.
* ``exclusions`` (``[{"supply", "request"}]``) and ``pins`` (``[{"supply", "request",
  "quantity"}]``) are optional (absent or ``null``: none): a coordinator's adjustments,
  a project extension (:mod:`engine.scenario.model`). They must name supplies and
  requests of the scenario; a pin must be an eligible pair within the quantities.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any, NoReturn

from engine.reference import default_categories
from engine.scenario import rules
from engine.scenario.errors import Issue, ScenarioError
from engine.scenario.model import (
    CATEGORY_RULES,
    DAY_END,
    DAY_START,
    POLICY_RULES,
    REQUEST_RULES,
    SUPPLY_RULES,
    VOLUNTEER_RULES,
    Category,
    Pin,
    Policy,
    Request,
    Scenario,
    Supply,
    Volunteer,
    field_problems,
)

FORMAT_VERSION = 1
DEFAULT_SPEED_KMH = 30.0
DEFAULT_UNIT = "unit"
MAX_QUANTITY = rules.MAX_QUANTITY

# [0-9], not \d: \d also matches Arabic-Indic digits, which int() would happily accept.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2})")
_PRIORITY_KEYS = ("1", "2", "3", "4", "5")
_PLACEHOLDER_DATE = date(2000, 1, 1)  # stands in for an invalid plan date; never returned
_REQUIRED = object()  # a field spec's default: the field must be present
_got = rules.show
_quote = rules.quote


class _Bad(Exception):
    """A field problem found while converting JSON; the message starts with the field."""


# -- JSON conversions (what is particular to the wire format)


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
    """A ``["HH:MM", "HH:MM"]`` pair as minutes (the order is the records' rule)."""
    if not isinstance(value, list) or len(value) != 2:
        raise _Bad(f'{key} must be a pair ["HH:MM", "HH:MM"], got {_got(value)}')
    return _time(value[0], f"{key}[0]"), _time(value[1], f"{key}[1]")


def _regions(value: object) -> frozenset[str]:
    if not isinstance(value, list):
        raise _Bad(f"regions must be a list of region codes, got {_got(value)}")
    for position, code in enumerate(value):
        tail = rules.text(code)
        if tail is not None:
            raise _Bad(f"regions[{position}] {tail}")
    return frozenset(value)


def _names(value: object) -> MappingProxyType[str, str]:
    if not isinstance(value, dict):
        raise _Bad(f"names must be an object of strings, got {_got(value)}")
    return MappingProxyType(dict(value))  # a copy: later edits of the document stay out


# A field spec: (name, default or _REQUIRED, JSON conversion or None). An optional
# field that is absent or null takes its default; a callable default is called.
_Spec = tuple[str, object, Callable[[Any], Any] | None]


def _slow_values(
    rec: dict[str, Any], specs: Sequence[_Spec]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields of ``rec`` that read well, and a problem per field that does not."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, default, convert in specs:
        raw = rec.get(name)
        if raw is None:
            if default is _REQUIRED:
                if name not in rec:
                    problems[name] = f"missing required field {_quote(name)}"
                    continue
            else:
                values[name] = default() if callable(default) else default
                continue
        if convert is None:
            values[name] = raw
        else:
            try:
                values[name] = convert(raw)
            except _Bad as bad:
                problems[name] = str(bad)
    return values, problems


def _read_records(
    kind: str,
    records: list[Any],
    cls: type,
    specs: Sequence[_Spec],
    table: Sequence[tuple[str, rules.Rule]],
    issues: list[Issue],
    known: Mapping[str, object] | None = None,
    where: str = "",
) -> list[Any]:
    """Build the records of one list, appending every problem to ``issues``.

    ``known``: the category ids references are checked against (``None``: the
    catalogue itself is broken; references are not checked then, to avoid echoes).
    """
    out = []
    seen: dict[str, int] = {}
    order = {name: position for position, (name, _, _) in enumerate(specs)}
    # Fast path (every record of a valid file): required fields read directly, the
    # few conversions applied; any problem sends the record to the slow path, which
    # collects them all.
    plain = [name for name, default, convert in specs if default is _REQUIRED and not convert]
    optional = [
        (name, default)
        for name, default, convert in specs
        if default is not _REQUIRED and not convert
    ]
    converted = [(name, default, convert) for name, default, convert in specs if convert]
    for index, rec in enumerate(records):
        if not isinstance(rec, dict):
            issues.append(Issue(f"{kind}[{index}]", None, f"must be an object, got {_got(rec)}"))
            continue
        problems: dict[str, str] = {}
        try:
            values: dict[str, Any] = {name: rec[name] for name in plain}
            get = rec.get
            for name, default in optional:
                raw = get(name)
                values[name] = (
                    raw if raw is not None else (default() if callable(default) else default)
                )
            for name, default, convert in converted:
                raw = rec[name] if default is _REQUIRED else get(name)
                if raw is None and default is not _REQUIRED:
                    values[name] = default() if callable(default) else default
                else:
                    values[name] = convert(raw)
        except (KeyError, _Bad):
            values, problems = _slow_values(rec, specs)
        record = None
        if not problems:
            try:
                record = cls(**values)
            except ScenarioError as exc:
                for issue in exc.issues:
                    problems.setdefault(issue.field or "", issue.message)
        else:
            for name, message in field_problems(table, values):
                problems.setdefault(name, message)
        rid = values.get("id")
        if "id" not in problems and isinstance(rid, str):
            first = seen.setdefault(rid, index)
            if first != index:
                problems["id"] = rules.duplicate_id(rid, kind, first)
        category = values.get("category")
        if (
            known is not None
            and "category" not in problems
            and isinstance(category, str)
            and category not in known
        ):
            problems["category"] = rules.unknown_category(category, where)
        if problems:
            path = rules.label(kind, index, rec.get("id"))
            for name in sorted(problems, key=lambda n: order.get(n, len(order))):
                issues.append(Issue(path, name or None, problems[name]))
        elif record is not None:
            out.append(record)
    return out


def _record_list(doc: dict[str, Any], key: str, source: str, issues: list[Issue]) -> list[Any]:
    if key not in doc:
        return []  # a missing required list is reported at the top level
    value = doc[key]
    if value is None and key == "volunteers":
        return []  # an optional list set to null is absent
    if not isinstance(value, list):
        issues.append(Issue(source, key, f"{key} must be a list, got {_got(value)}"))
        return []
    return value


# -- sections


def _parse_categories(
    doc: dict[str, Any], source: str, issues: list[Issue]
) -> tuple[Mapping[str, Category], Mapping[str, object] | None, str]:
    """The catalogue, the ids references may name (``None``: unknown) and its name."""
    records = doc.get("categories")
    if records is None or records == []:
        catalogue = default_categories()
        return catalogue, catalogue, "the built-in catalogue"
    if not isinstance(records, list):
        issues.append(
            Issue(source, "categories", f"categories must be a list, got {_got(records)}")
        )
        return MappingProxyType({}), None, "the scenario's categories"
    specs: list[_Spec] = [
        ("id", _REQUIRED, None),
        ("unit", DEFAULT_UNIT, None),
        ("weight_kg", _REQUIRED, None),
        ("perishable", False, None),
        ("names", MappingProxyType({}), _names),
    ]
    before = len(issues)
    built = _read_records("categories", records, Category, specs, CATEGORY_RULES, issues)
    # References to a category whose record was invalid are not reported again.
    known: dict[str, object] = {
        rec["id"]: None
        for rec in records
        if isinstance(rec, dict) and isinstance(rec.get("id"), str)
    }
    if len(issues) > before:
        return MappingProxyType({}), known, "the scenario's categories"
    return MappingProxyType({c.id: c for c in built}), known, "the scenario's categories"


def _parse_policy(doc: dict[str, Any], issues: list[Issue]) -> Policy:
    raw = doc.get("policy")
    if raw is None:
        return Policy()
    if not isinstance(raw, dict):
        issues.append(Issue("policy", None, f"must be an object, got {_got(raw)}"))
        return Policy()
    values: dict[str, Any] = {
        name: raw[name] for name, _ in POLICY_RULES if raw.get(name) is not None
    }
    weights: dict[int, object] = {}
    given = raw.get("priority_weights")
    if given is not None:
        if not isinstance(given, dict):
            issues.append(
                Issue(
                    "policy.priority_weights",
                    "priority_weights",
                    f'must be an object with keys "1".."5", got {_got(given)}',
                )
            )
        else:
            for key, value in given.items():
                if key not in _PRIORITY_KEYS:
                    issues.append(
                        Issue(
                            f"policy.priority_weights[{_quote(key)}]",
                            "priority_weights",
                            'unknown priority, keys are "1".."5"',
                        )
                    )
                else:
                    weights[int(key)] = value
    try:
        return Policy(priority_weights=weights, **values)
    except ScenarioError as exc:
        issues.extend(exc.issues)
        return Policy()


def _parse_adjustments(
    doc: dict[str, Any], source: str, issues: list[Issue]
) -> tuple[frozenset[tuple[str, str]], tuple[Pin, ...]]:
    """The optional ``exclusions`` and ``pins`` lists (checked against the records by
    the :class:`Scenario` itself)."""
    pairs: set[tuple[str, str]] = set()
    pins: list[Pin] = []
    for key in ("exclusions", "pins"):
        raw = doc.get(key)
        if raw is None:
            continue
        if not isinstance(raw, list):
            issues.append(Issue(source, key, f"{key} must be a list, got {_got(raw)}"))
            continue
        for index, rec in enumerate(raw):
            where = f"{key}[{index}]"
            if not isinstance(rec, dict):
                issues.append(Issue(where, None, f"must be an object, got {_got(rec)}"))
                continue
            fields = ("supply", "request", "quantity") if key == "pins" else ("supply", "request")
            bad = False
            for name in fields:
                if name not in rec:
                    issues.append(Issue(where, name, f"missing required field {_quote(name)}"))
                    bad = True
                    continue
                rule = rules.quantity if name == "quantity" else rules.text
                tail = rule(rec[name])
                if tail is not None:
                    issues.append(Issue(where, name, f"{name} {tail}"))
                    bad = True
            if bad:
                continue
            if key == "pins":
                pins.append(Pin(rec["supply"], rec["request"], rec["quantity"]))
            else:
                pairs.add((rec["supply"], rec["request"]))
    return frozenset(pairs), tuple(pins)


def parse_scenario(doc: object, *, source: str = "scenario") -> Scenario:
    """Validate a decoded JSON document and build the frozen :class:`Scenario`.

    ``source`` names the document in top-level messages (``scenario: missing required
    field "supplies"``). Raises :class:`ScenarioError` holding every problem found, in
    this order: top-level required fields, ``version``, ``date``, ``categories``,
    ``policy``, ``supplies``, ``requests``, ``volunteers``, each list in order.
    """
    if not isinstance(doc, dict):
        raise ScenarioError(Issue(source, None, f"must be a JSON object, got {_got(doc)}"))
    issues: list[Issue] = []
    for key in ("version", "date", "supplies", "requests"):
        if key not in doc:
            issues.append(Issue(source, key, f"missing required field {_quote(key)}"))
    version = doc.get("version", FORMAT_VERSION)
    if not rules.is_int(version) or version != FORMAT_VERSION:
        issues.append(
            Issue(source, "version", f"version must be {FORMAT_VERSION}, got {_got(version)}")
        )
    dates: dict[str, date] = {}
    plan_date = _PLACEHOLDER_DATE
    if "date" in doc:
        try:
            plan_date = _date(doc["date"], "date", dates)
        except _Bad as bad:
            issues.append(Issue(source, "date", str(bad)))
    categories, known, where = _parse_categories(doc, source, issues)
    policy = _parse_policy(doc, issues)

    def date_field(key: str) -> Callable[[Any], date]:
        return lambda value: _date(value, key, dates)

    def interval_field(key: str) -> Callable[[Any], tuple[int, int]]:
        return lambda value: _interval(value, key)

    supplies = _read_records(
        "supplies",
        _record_list(doc, "supplies", source, issues),
        Supply,
        [
            ("id", _REQUIRED, None),
            ("category", _REQUIRED, None),
            ("quantity", _REQUIRED, None),
            ("lat", _REQUIRED, None),
            ("lon", _REQUIRED, None),
            ("region", _REQUIRED, None),
            ("org", None, None),
            ("expires", None, date_field("expires")),
            ("regions", None, _regions),
        ],
        SUPPLY_RULES,
        issues,
        known,
        where,
    )
    requests = _read_records(
        "requests",
        _record_list(doc, "requests", source, issues),
        Request,
        [
            ("id", _REQUIRED, None),
            ("category", _REQUIRED, None),
            ("quantity", _REQUIRED, None),
            ("lat", _REQUIRED, None),
            ("lon", _REQUIRED, None),
            ("region", _REQUIRED, None),
            ("priority", _REQUIRED, None),
            ("filed", lambda: plan_date, date_field("filed")),
            ("window", (DAY_START, DAY_END), interval_field("window")),
        ],
        REQUEST_RULES,
        issues,
        known,
        where,
    )
    volunteers = _read_records(
        "volunteers",
        _record_list(doc, "volunteers", source, issues),
        Volunteer,
        [
            ("id", _REQUIRED, None),
            ("lat", _REQUIRED, None),
            ("lon", _REQUIRED, None),
            ("capacity_kg", _REQUIRED, None),
            ("shift", _REQUIRED, interval_field("shift")),
            ("speed_kmh", DEFAULT_SPEED_KMH, None),
        ],
        VOLUNTEER_RULES,
        issues,
    )
    exclusions, pins = _parse_adjustments(doc, source, issues)
    if issues:
        raise ScenarioError(issues)
    return Scenario(
        date=plan_date,
        categories=categories,
        supplies=tuple(supplies),
        requests=tuple(requests),
        volunteers=tuple(volunteers),
        policy=policy,
        version=version,
        exclusions=exclusions,
        pins=pins,
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
