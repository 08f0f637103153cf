"""The validation rules of scenario values, and the limits the engine accepts.

One place for both ways a :class:`~engine.scenario.model.Scenario` comes to be: the
reader (a JSON file) and code that builds the records directly (the database layer).
The records' ``__post_init__`` and the reader call the same rules, so both give the
same messages.

A rule takes a value and returns ``None`` when the value is fine, else the tail of a
message (``"must be a positive integer, got -3"``); the caller puts the field name
and the record's label in front.

**Limits.** The spec asks for positive capacities, weights and speeds; the engine also
needs them bounded, because the routing model turns them into 32/64-bit integers and
the matching into exact integer costs. The bounds are far beyond real aid logistics:

======================  ==========================================================
``quantity``            1 .. 10^9 units (:data:`MAX_QUANTITY`)
``weight_kg``           10^-6 .. 10^6 kg per unit (a milligram to a thousand tonnes)
``capacity_kg``         > 0, at most 10^6 kg
``speed_kmh``           0.1 .. 1000 km/h
``road_factor``         > 0, at most 10
``stop_minutes``,       0 .. 1440 minutes (one day)
``unit_minutes``
``max_distance_km``     at least 1 km; values above 20,016 km (half the Earth's
                        circumference on the spec's sphere: no two places are
                        farther apart) mean "no limit" and are stored as 20,016
ids and codes           at most 200 characters of valid Unicode text (``id``,
                        ``category``, ``region``, ``regions`` items, ``unit``)
======================  ==========================================================

Values in messages are echoed shortened (strings beyond 40 characters end in "…"),
so that a message stays one readable line whatever the input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import date
from numbers import Integral, Real

Rule = Callable[[object], "str | None"]

MAX_QUANTITY = 10**9  # sums of 100,000 such quantities still fit int64 flow arithmetic
MAX_TEXT_LENGTH = 200  # ids and codes; a UUID is 36, "org:external-ref" well under 200
MIN_WEIGHT_KG = 1e-6
MAX_WEIGHT_KG = 1e6
MAX_CAPACITY_KG = 1e6
MIN_SPEED_KMH = 0.1
MAX_SPEED_KMH = 1000.0
MAX_ROAD_FACTOR = 10.0
MAX_SERVICE_MINUTES = 1440.0
# Half the circumference of the spec's sphere (radius 6371.009 km) is 20,015.1 km: the
# longest great-circle distance. Any larger limit admits every pair, and clamping keeps
# the matching's integer costs (which scale with this limit) small.
NO_DISTANCE_LIMIT_KM = 20016.0
# Below about 0.1 km, the matching's dot-product filter cannot tell a distance from
# float rounding (1 - cos θ nears one ulp); 1 km is far below any real policy.
MIN_DISTANCE_KM = 1.0
DAY_MINUTES = 1440
ECHO_CHARS = 40  # longest string echoed whole in a message
_ECHO_VALUE = 60  # longest rendering of a non-string value (lists, objects)
_FLOAT_MAX = 1e308  # integers beyond the float range are not usable numbers


def limit_text(value: float) -> str:
    """A limit as written in messages: ``1000000``, ``0.1``, ``0.000001``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def _printable(text: str) -> str:
    # A lone surrogate cannot be encoded (printing it to a strict stream raises);
    # show it escaped, as JSON would.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def quote(text: str) -> str:
    """A string as a JSON literal for messages, cut to :data:`ECHO_CHARS` plus "…"."""
    cut = text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"
    return _printable(json.dumps(cut, ensure_ascii=False))


def show(value: object) -> str:
    """The offending value as it looks in JSON, shortened for one-line messages."""
    if isinstance(value, str):
        return quote(value)
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except (ValueError, RecursionError):  # an int too long to print (4300-digit limit)
            text = f"<{type(value).__name__}>"
    text = _printable(text)
    return text if len(text) <= _ECHO_VALUE else text[: _ECHO_VALUE - 3] + "..."


def hhmm(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM`` (1440 is ``24:00``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def is_int(value: object) -> bool:
    """An integer, not a bool (bool is an int subclass in Python, never one on the wire)."""
    if type(value) is int:
        return True
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A finite real number within the float range; bools are not numbers."""
    if type(value) is float or isinstance(value, float):
        return math.isfinite(value)
    if is_int(value):
        return abs(int(value)) <= _FLOAT_MAX  # type: ignore[call-overload]
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


# -- rules


def text(value: object) -> str | None:
    """An id or code: a non-empty string of valid Unicode, at most 200 characters."""
    if type(value) is str and 0 < len(value) <= MAX_TEXT_LENGTH and value.isascii():
        return None  # the common case, fast
    if not isinstance(value, str) or not value:
        return f"must be a non-empty string, got {show(value)}"
    if len(value) > MAX_TEXT_LENGTH:
        return f"must be at most {MAX_TEXT_LENGTH} characters, got {len(value)} ({show(value)})"
    return unicode_text(value)


def unicode_text(value: str) -> str | None:
    """``None`` unless ``value`` holds a lone surrogate (JSON ``"\\ud800"`` decodes to one)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"must be valid Unicode text, got a lone surrogate at character {exc.start}"
    return None


def optional_string(value: object) -> str | None:
    """Free text such as ``org``: absent, or any valid Unicode string."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"must be a string, got {show(value)}"
    return None if value.isascii() else unicode_text(value)


def quantity(value: object) -> str | None:
    """A positive integer, at most :data:`MAX_QUANTITY`."""
    if type(value) is int and 0 < value <= MAX_QUANTITY:
        return None
    if not is_int(value) or value <= 0:  # type: ignore[operator]
        return f"must be a positive integer, got {show(value)}"
    if value > MAX_QUANTITY:  # type: ignore[operator]
        return f"must be at most {MAX_QUANTITY}, got {show(value)}"
    return None


def priority(value: object) -> str | None:
    """An integer from 1 to 5."""
    if type(value) is int and 1 <= value <= 5:
        return None
    if is_int(value) and 1 <= value <= 5:  # type: ignore[operator]
        return None
    return f"must be an integer from 1 to 5, got {show(value)}"


def number_rule(
    *, minimum: float | None = None, maximum: float | None = None, zero_ok: bool = False
) -> Rule:
    """A rule for a positive (or, with ``zero_ok``, non-negative) number in bounds."""
    kind = "a non-negative" if zero_ok else "a positive"
    low = -math.inf if minimum is None else minimum
    high = math.inf if maximum is None else maximum

    def rule(value: object) -> str | None:
        if (
            type(value) is float
            and low <= value <= high
            and (value > 0 or (zero_ok and value == 0))
        ):
            return None  # the common case, fast (NaN fails every comparison)
        if not is_number(value) or value < 0 or (value == 0 and not zero_ok):  # type: ignore[operator]
            return f"must be {kind} number, got {show(value)}"
        if value < low:  # type: ignore[operator]
            return f"must be at least {limit_text(low)}, got {show(value)}"
        if value > high:  # type: ignore[operator]
            return f"must be at most {limit_text(high)}, got {show(value)}"
        return None

    return rule


weight_kg = number_rule(minimum=MIN_WEIGHT_KG, maximum=MAX_WEIGHT_KG)
capacity_kg = number_rule(maximum=MAX_CAPACITY_KG)
speed_kmh = number_rule(minimum=MIN_SPEED_KMH, maximum=MAX_SPEED_KMH)
road_factor = number_rule(maximum=MAX_ROAD_FACTOR)
service_minutes = number_rule(maximum=MAX_SERVICE_MINUTES, zero_ok=True)
# Larger than NO_DISTANCE_LIMIT_KM: clamped, not refused.
max_distance_km = number_rule(minimum=MIN_DISTANCE_KM)
priority_weight = number_rule()  # the matching states its own exactness limit


def lat(value: object) -> str | None:
    """Decimal degrees in [-90, 90]."""
    if type(value) is float and -90.0 <= value <= 90.0:
        return None
    if is_number(value) and -90.0 <= value <= 90.0:  # type: ignore[operator]
        return None
    return f"must be a number in [-90, 90], got {show(value)}"


def lon(value: object) -> str | None:
    """Decimal degrees in [-180, 180]."""
    if type(value) is float and -180.0 <= value <= 180.0:
        return None
    if is_number(value) and -180.0 <= value <= 180.0:  # type: ignore[operator]
        return None
    return f"must be a number in [-180, 180], got {show(value)}"


def a_date(value: object) -> str | None:
    """A :class:`datetime.date` (the reader parses ``YYYY-MM-DD`` first)."""
    return None if isinstance(value, date) else f"must be a date, got {show(value)}"


def optional_date(value: object) -> str | None:
    """Absent or a date."""
    return None if value is None else a_date(value)


def interval(value: object) -> str | None:
    """``(start, end)`` minutes after midnight in [0, 1440], end not before start."""
    if type(value) is tuple and len(value) == 2:
        start, end = value
        if type(start) is int and type(end) is int and 0 <= start <= end <= DAY_MINUTES:
            return None  # the common case, fast
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(is_int(m) and 0 <= m <= DAY_MINUTES for m in value)  # type: ignore[operator]
    ):
        return f"must be a pair of minutes (start, end) from 0 to {DAY_MINUTES}, got {show(value)}"
    start, end = value
    if end < start:
        return f"end {hhmm(end)} precedes its start {hhmm(start)}"
    return None


def regions(value: object) -> str | None:
    """Absent, or a set of region codes (each an id-like text)."""
    if value is None:
        return None
    if not isinstance(value, frozenset | set | list | tuple):
        return f"must be a list of region codes, got {show(value)}"
    for code in value:
        tail = text(code)
        if tail is not None:
            return f"must be a list of region codes: an item {tail}"
    return None


def boolean(value: object) -> str | None:
    """``True`` or ``False``."""
    return None if isinstance(value, bool) else f"must be true or false, got {show(value)}"


def names(value: object) -> str | None:
    """Display names by language: a mapping of strings to strings."""
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return f"must be an object of strings, got {show(value)}"
    for k, v in value.items():
        if optional_string(k) is not None or optional_string(v) is not None:
            return "must be an object of strings: a name is not valid Unicode text"
    return None


def duplicate_id(rid: str, kind: str, first: int) -> str:
    """The message for an id seen before in the same list."""
    return f"duplicate id {quote(rid)} (first at {kind}[{first}])"


def unknown_category(category: str, where: str) -> str:
    """The message for a category reference missing from the catalogue ``where``."""
    return f"category {quote(category)} is unknown (not in {where})"


def label(kind: str, index: int | None, rid: object) -> str:
    """``requests[17] (id "R18")``; the id part only when it is a usable string."""
    head = kind if index is None else f"{kind}[{index}]"
    if isinstance(rid, str) and rid:
        return f"{head} (id {quote(rid)})"
    return head
