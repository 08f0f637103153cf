"""Frozen records of one scenario (a day's supplies, requests and volunteers).

Units are stated here once: coordinates are WGS84 decimal degrees, weights kg,
distances km, speeds km/h, times are minutes after midnight of the plan date
(the wire format's ``HH:MM``), durations minutes.

Every record validates itself on construction with the reader's rules and messages
(:mod:`engine.scenario.rules`), so a scenario built in code (the database layer) is
held to the same contract as a file: an invalid value raises
:class:`~engine.scenario.errors.ScenarioError` listing every problem, e.g.
``request (id "R18"): quantity must be a positive integer, got -3``. A
:class:`Scenario` also checks what spans records: unique ids per list and category
references (``requests[2] (id "R2"): duplicate id "R2" (first at requests[1])``).
Numbers are stored as ``float`` (counts as ``int``), windows as tuples, ``regions`` as
a frozenset and mappings read-only, whatever the caller passed.

A scenario may also carry a coordinator's adjustments of the day (a project
extension of the format, optional keys ``exclusions`` and ``pins``): supply–request
pairs the plan must not use, and allocations it must contain. They are part of the
scenario so that the stored scenario of a batch says everything its solve saw, and
a replay or a check of the plan sees the same (``docs/batch.md``, "Adjustments").
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from engine.scenario import rules
from engine.scenario.errors import Issue, ScenarioError
from matching.geo import great_circle_km

DEFAULT_PRIORITY_WEIGHTS: Mapping[int, float] = MappingProxyType(
    {1: 1.0, 2: 2.0, 3: 4.0, 4: 8.0, 5: 16.0}
)
DAY_START = 0  # 00:00
DAY_END = 24 * 60  # 24:00, the end of the plan date


# Field rules per record type, in the order fields are checked and reported.
CATEGORY_RULES: tuple[tuple[str, rules.Rule], ...] = (
    ("id", rules.text),
    ("unit", rules.text),
    ("weight_kg", rules.weight_kg),
    ("perishable", rules.boolean),
    ("names", rules.names),
)
SUPPLY_RULES: tuple[tuple[str, rules.Rule], ...] = (
    ("id", rules.text),
    ("category", rules.text),
    ("quantity", rules.quantity),
    ("lat", rules.lat),
    ("lon", rules.lon),
    ("region", rules.text),
    ("org", rules.optional_string),
    ("expires", rules.optional_date),
    ("regions", rules.regions),
)
REQUEST_RULES: tuple[tuple[str, rules.Rule], ...] = (
    ("id", rules.text),
    ("category", rules.text),
    ("quantity", rules.quantity),
    ("lat", rules.lat),
    ("lon", rules.lon),
    ("region", rules.text),
    ("priority", rules.priority),
    ("filed", rules.a_date),
    ("window", rules.interval),
)
VOLUNTEER_RULES: tuple[tuple[str, rules.Rule], ...] = (
    ("id", rules.text),
    ("lat", rules.lat),
    ("lon", rules.lon),
    ("capacity_kg", rules.capacity_kg),
    ("shift", rules.interval),
    ("speed_kmh", rules.speed_kmh),
)
POLICY_RULES: tuple[tuple[str, rules.Rule], ...] = (
    ("max_distance_km", rules.max_distance_km),
    ("road_factor", rules.road_factor),
    ("stop_minutes", rules.service_minutes),
    ("unit_minutes", rules.service_minutes),
)


def field_problems(
    table: Sequence[tuple[str, rules.Rule]], values: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """``(field, message)`` for every field of ``values`` that breaks its rule.

    Fields absent from ``values`` are skipped (the reader reports them as missing).
    Messages start with the field name: ``quantity must be a positive integer, got -3``.
    """
    out = []
    for name, rule in table:
        if name in values:
            tail = rule(values[name])
            if tail is not None:
                out.append((name, f"{name} {tail}"))
    return out


class _Checker:
    """A record type's rules run over a record's fields in one C-level pass."""

    __slots__ = ("fields", "rules", "table")

    def __init__(self, table: Sequence[tuple[str, rules.Rule]]) -> None:
        self.table = tuple(table)
        self.fields = operator.attrgetter(*(name for name, _ in table))
        self.rules = tuple(rule for _, rule in table)

    def __call__(self, record: object) -> None:
        """Raise :class:`ScenarioError` listing every field of ``record`` breaking its rule."""
        # Rules return None or a non-empty message: any() is True only on a problem.
        # The happy path is one attrgetter and one map, no Python-level loop: a day's
        # 100,000 requests are all built through here.
        if not any(map(operator.call, self.rules, self.fields(record))):
            return
        values = {name: getattr(record, name) for name, _ in self.table}
        path = rules.label(type(record).__name__.lower(), None, getattr(record, "id", None))
        raise ScenarioError(
            Issue(path, name, message) for name, message in field_problems(self.table, values)
        )


_CHECK_CATEGORY = _Checker(CATEGORY_RULES)
_CHECK_SUPPLY = _Checker(SUPPLY_RULES)
_CHECK_REQUEST = _Checker(REQUEST_RULES)
_CHECK_VOLUNTEER = _Checker(VOLUNTEER_RULES)


def _store(record: object, name: str, value: object) -> None:
    object.__setattr__(record, name, value)  # normalising a frozen record once, at birth


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of aid, counted in ``unit``s of ``weight_kg`` each."""

    id: str
    unit: str = "unit"
    weight_kg: float = 1.0
    perishable: bool = False
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        _CHECK_CATEGORY(self)
        if type(self.weight_kg) is not float:
            _store(self, "weight_kg", float(self.weight_kg))
        if not isinstance(self.names, MappingProxyType):
            _store(self, "names", MappingProxyType(dict(self.names)))


@dataclass(frozen=True, slots=True)
class Supply:
    """A donated lot in stock: ``quantity`` units of ``category`` at a place."""

    id: str
    category: str
    quantity: int
    lat: float
    lon: float
    region: str
    org: str | None = None
    expires: date | None = None
    regions: frozenset[str] | None = None  # donor restriction: serve only these regions

    def __post_init__(self) -> None:
        _CHECK_SUPPLY(self)
        if type(self.quantity) is not int:
            _store(self, "quantity", int(self.quantity))
        if type(self.lat) is not float:
            _store(self, "lat", float(self.lat))
        if type(self.lon) is not float:
            _store(self, "lon", float(self.lon))
        if self.regions is not None and not isinstance(self.regions, frozenset):
            _store(self, "regions", frozenset(self.regions))


@dataclass(frozen=True, slots=True)
class Request:
    """A household's need: ``quantity`` units of ``category``."""

    id: str
    category: str
    quantity: int
    lat: float
    lon: float
    region: str
    priority: int  # 1 (lowest) .. 5 (most urgent)
    filed: date  # defaults to the plan date when absent on the wire
    window: tuple[int, int] = (DAY_START, DAY_END)  # delivery window, minutes

    def __post_init__(self) -> None:
        _CHECK_REQUEST(self)
        if type(self.quantity) is not int:
            _store(self, "quantity", int(self.quantity))
        if type(self.lat) is not float:
            _store(self, "lat", float(self.lat))
        if type(self.lon) is not float:
            _store(self, "lon", float(self.lon))
        if type(self.priority) is not int:
            _store(self, "priority", int(self.priority))
        if type(self.window) is not tuple:
            _store(self, "window", (int(self.window[0]), int(self.window[1])))


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A driver: starts and ends at home, within the shift."""

    id: str
    lat: float
    lon: float
    capacity_kg: float
    shift: tuple[int, int]  # minutes after midnight
    speed_kmh: float = 30.0

    def __post_init__(self) -> None:
        _CHECK_VOLUNTEER(self)
        if type(self.lat) is not float:
            _store(self, "lat", float(self.lat))
        if type(self.lon) is not float:
            _store(self, "lon", float(self.lon))
        if type(self.capacity_kg) is not float:
            _store(self, "capacity_kg", float(self.capacity_kg))
        if type(self.speed_kmh) is not float:
            _store(self, "speed_kmh", float(self.speed_kmh))
        if type(self.shift) is not tuple:
            _store(self, "shift", (int(self.shift[0]), int(self.shift[1])))


@dataclass(frozen=True, slots=True)
class Policy:
    """Tunable rules of the day; every field has the spec's default.

    ``priority_weights`` may give any subset of the priorities 1..5; the others keep
    their defaults. A ``max_distance_km`` above :data:`rules.NO_DISTANCE_LIMIT_KM`
    (no two places are farther apart) is stored as that value.
    """

    max_distance_km: float = 150.0
    priority_weights: Mapping[int, float] = field(default_factory=lambda: DEFAULT_PRIORITY_WEIGHTS)
    road_factor: float = 1.3
    stop_minutes: float = 5.0
    unit_minutes: float = 0.5

    def __post_init__(self) -> None:
        issues = [
            Issue(f"policy.{name}", name, message[len(name) + 1 :])
            for name, message in field_problems(
                POLICY_RULES, {name: getattr(self, name) for name, _ in POLICY_RULES}
            )
        ]
        weights = dict(DEFAULT_PRIORITY_WEIGHTS)
        given = self.priority_weights
        if not isinstance(given, Mapping):
            issues.append(
                Issue(
                    "policy.priority_weights",
                    "priority_weights",
                    f"must be a mapping of priorities 1..5 to weights, got {rules.show(given)}",
                )
            )
            given = {}
        for key, value in given.items():
            where = f"policy.priority_weights[{rules.quote(str(key))}]"
            if not rules.is_int(key) or not 1 <= key <= 5:
                issues.append(
                    Issue(where, "priority_weights", 'unknown priority, keys are "1".."5"')
                )
                continue
            tail = rules.priority_weight(value)
            if tail is not None:
                issues.append(Issue(where, "priority_weights", tail))
            else:
                weights[int(key)] = float(value)
        if issues:
            raise ScenarioError(issues)
        _store(
            self, "max_distance_km", min(float(self.max_distance_km), rules.NO_DISTANCE_LIMIT_KM)
        )
        _store(self, "road_factor", float(self.road_factor))
        _store(self, "stop_minutes", float(self.stop_minutes))
        _store(self, "unit_minutes", float(self.unit_minutes))
        if weights != given or not isinstance(given, MappingProxyType):
            _store(self, "priority_weights", MappingProxyType(weights))


@dataclass(frozen=True, slots=True)
class Pin:
    """A pinned allocation: the plan must give ``quantity`` units of ``supply`` to
    ``request``, as one allocation of exactly that quantity."""

    supply: str
    request: str
    quantity: int

    def __post_init__(self) -> None:
        problems = [
            Issue("pin", name, f"{name} {tail}")
            for name, tail in (
                ("supply", rules.text(self.supply)),
                ("request", rules.text(self.request)),
                ("quantity", rules.quantity(self.quantity)),
            )
            if tail is not None
        ]
        if problems:
            raise ScenarioError(problems)
        if type(self.quantity) is not int:
            _store(self, "quantity", int(self.quantity))


def pair_problems(day: date, policy: Policy, supply: Supply, request: Request) -> list[str]:
    """Why (``supply``, ``request``) is not an eligible pair of the exchange format
    (same category, not expired, the request's region allowed, within
    ``max_distance_km``); empty when it is one."""
    problems = []
    if supply.category != request.category:
        problems.append(f"categories differ ({supply.category} vs {request.category})")
    if supply.expires is not None and supply.expires < day:
        problems.append(f"the supply expired on {supply.expires.isoformat()}")
    if supply.regions is not None and request.region not in supply.regions:
        problems.append(f"region {request.region} is not among the supply's regions")
    km = float(great_circle_km(supply.lat, supply.lon, request.lat, request.lon))
    if km > policy.max_distance_km:
        problems.append(f"{km:.1f} km apart, over max_distance_km {policy.max_distance_km:g}")
    return problems


def adjustment_problems(
    day: date,
    policy: Policy,
    supplies: Sequence[Supply],
    requests: Sequence[Request],
    exclusions: frozenset[tuple[str, str]],
    pins: Sequence[Pin],
) -> list[Issue]:
    """What is wrong with a scenario's exclusions and pins.

    Both name a supply and a request of the scenario. A pin must be an eligible pair
    that is not excluded, and the pins of a supply (of a request) must not add up to
    more than its quantity: a plan honouring them must still be valid.
    """
    issues: list[Issue] = []
    by_supply = {s.id: s for s in supplies}
    by_request = {r.id: r for r in requests}
    for index, (sid, rid) in enumerate(sorted(exclusions)):
        where = f"exclusions[{index}]"
        if sid not in by_supply:
            issues.append(Issue(where, "supply", f"supply {rules.quote(sid)} is unknown"))
        if rid not in by_request:
            issues.append(Issue(where, "request", f"request {rules.quote(rid)} is unknown"))
    given: dict[str, int] = {}
    got: dict[str, int] = {}
    for index, pin in enumerate(pins):
        where = f"pins[{index}]"
        supply, request = by_supply.get(pin.supply), by_request.get(pin.request)
        if supply is None:
            issues.append(Issue(where, "supply", f"supply {rules.quote(pin.supply)} is unknown"))
        if request is None:
            issues.append(Issue(where, "request", f"request {rules.quote(pin.request)} is unknown"))
        if supply is None or request is None:
            continue
        if (pin.supply, pin.request) in exclusions:
            issues.append(Issue(where, None, "pins a pair the scenario excludes"))
        for problem in pair_problems(day, policy, supply, request):
            issues.append(Issue(where, None, f"not an eligible pair: {problem}"))
        given[pin.supply] = given.get(pin.supply, 0) + pin.quantity
        got[pin.request] = got.get(pin.request, 0) + pin.quantity
    for sid, units in given.items():
        if units > by_supply[sid].quantity:
            issues.append(
                Issue(
                    "pins",
                    None,
                    f"the pins take {units} units of supply {rules.quote(sid)}, "
                    f"more than its {by_supply[sid].quantity}",
                )
            )
    for rid, units in got.items():
        if units > by_request[rid].quantity:
            issues.append(
                Issue(
                    "pins",
                    None,
                    f"the pins give {units} units to request {rules.quote(rid)}, "
                    f"more than its {by_request[rid].quantity}",
                )
            )
    return issues


_ID = operator.attrgetter("id")
_CATEGORY = operator.attrgetter("category")


def scenario_problems(
    categories: Mapping[str, object],
    sections: Sequence[tuple[str, Sequence[object]]],
    where: str = "the scenario's categories",
) -> list[Issue]:
    """What spans records: unique ids per list, category references in ``categories``.

    ``sections`` pairs a list name (``"requests"``) with its records (anything with
    ``id`` and, for supplies and requests, ``category`` attributes).
    """
    issues = []
    for kind, records in sections:
        # Fast path in C-level maps (a valid day of 100,000 requests); the loop below
        # only runs to name what is wrong.
        ids = set(map(_ID, records))
        cats = set(map(_CATEGORY, records)) if kind != "volunteers" else set()
        if len(ids) == len(records) and cats <= categories.keys():
            continue
        seen: dict[str, int] = {}
        for index, rec in enumerate(records):
            rid = rec.id  # type: ignore[attr-defined]
            first = seen.setdefault(rid, index)
            if first != index:
                issues.append(
                    Issue(rules.label(kind, index, rid), "id", rules.duplicate_id(rid, kind, first))
                )
            category = getattr(rec, "category", None)
            if category is not None and category not in categories:
                issues.append(
                    Issue(
                        rules.label(kind, index, rid),
                        "category",
                        rules.unknown_category(category, where),
                    )
                )
    return issues


@dataclass(frozen=True, slots=True)
class Scenario:
    """One day: the input of ``jessr solve``.

    ``categories`` maps id to :class:`Category` and always holds every category
    the supplies and requests use (the built-in catalogue when the file had none).
    Construction checks the types of the parts, unique ids in each list and that
    every supply and request names a known category; lists become tuples.
    """

    date: date
    categories: Mapping[str, Category]
    supplies: tuple[Supply, ...]
    requests: tuple[Request, ...]
    volunteers: tuple[Volunteer, ...] = ()
    policy: Policy = field(default_factory=Policy)
    version: int = 1
    # A coordinator's adjustments (see the module docstring): (supply id, request id)
    # pairs never to allocate, and allocations to keep.
    exclusions: frozenset[tuple[str, str]] = frozenset()
    pins: tuple[Pin, ...] = ()

    def __post_init__(self) -> None:
        issues: list[Issue] = []
        if not rules.is_int(self.version) or self.version != 1:
            issues.append(
                Issue("scenario", "version", f"version must be 1, got {rules.show(self.version)}")
            )
        if rules.a_date(self.date) is not None:
            issues.append(Issue("scenario", "date", f"date {rules.a_date(self.date)}"))
        if not isinstance(self.policy, Policy):
            issues.append(Issue("policy", None, f"must be a Policy, got {rules.show(self.policy)}"))
        categories = self.categories
        if not isinstance(categories, Mapping):
            issues.append(
                Issue(
                    "scenario",
                    "categories",
                    f"categories must be a mapping, got {rules.show(categories)}",
                )
            )
            categories = {}
        for key, cat in categories.items():
            if not isinstance(cat, Category) or cat.id != key:
                issues.append(
                    Issue(
                        f"categories[{rules.quote(str(key))}]",
                        None,
                        f"must be the Category with that id, got {rules.show(cat)}",
                    )
                )
        sections = []
        for kind, cls in (("supplies", Supply), ("requests", Request), ("volunteers", Volunteer)):
            records = getattr(self, kind)
            if isinstance(records, str | bytes | Mapping) or not isinstance(records, Sequence):
                issues.append(
                    Issue("scenario", kind, f"{kind} must be a sequence, got {rules.show(records)}")
                )
                continue
            if type(records) is not tuple:
                records = tuple(records)
                _store(self, kind, records)
            if not set(map(type, records)) <= {cls} and not all(
                isinstance(r, cls) for r in records
            ):
                index = next(i for i, r in enumerate(records) if not isinstance(r, cls))
                issues.append(
                    Issue(
                        f"{kind}[{index}]",
                        None,
                        f"must be a {cls.__name__}, got {rules.show(records[index])}",
                    )
                )
                continue
            sections.append((kind, records))
        issues.extend(scenario_problems(categories, sections))
        if not issues and (self.exclusions or self.pins):
            issues.extend(self._adjustment_issues())
        if issues:
            raise ScenarioError(issues)
        if not isinstance(categories, MappingProxyType):
            _store(self, "categories", MappingProxyType(dict(categories)))

    def _adjustment_issues(self) -> list[Issue]:
        """Normalise ``exclusions`` and ``pins`` and report what is wrong with them."""
        try:
            pairs = frozenset((str(a), str(b)) for a, b in self.exclusions)
        except (TypeError, ValueError):
            return [
                Issue(
                    "scenario",
                    "exclusions",
                    "exclusions must be (supply id, request id) pairs, "
                    f"got {rules.show(self.exclusions)}",
                )
            ]
        pins = tuple(self.pins)
        if not all(isinstance(p, Pin) for p in pins):
            return [Issue("scenario", "pins", f"pins must be Pin records, got {rules.show(pins)}")]
        _store(self, "exclusions", pairs)
        _store(self, "pins", pins)
        return adjustment_problems(
            self.date, self.policy, self.supplies, self.requests, pairs, pins
        )
