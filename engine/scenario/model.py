"""Frozen records of one scenario (a day's supplies, requests and volunteers).

Units are stated here once: coordinates are WGS84 decimal degrees, weights kg,
distances km, speeds km/h, times are minutes after midnight of the plan date
(the wire format's ``HH:MM``), durations minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

DEFAULT_PRIORITY_WEIGHTS: Mapping[int, float] = MappingProxyType(
    {1: 1.0, 2: 2.0, 3: 4.0, 4: 8.0, 5: 16.0}
)
DAY_START = 0  # 00:00
DAY_END = 24 * 60  # 24:00, the end of the plan date


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of aid, counted in ``unit``s of ``weight_kg`` each."""

    id: str
    unit: str = "unit"
    weight_kg: float = 1.0
    perishable: bool = False
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


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


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A driver: starts and ends at home, within the shift."""

    id: str
    lat: float
    lon: float
    capacity_kg: float
    shift: tuple[int, int]  # minutes after midnight
    speed_kmh: float = 30.0


@dataclass(frozen=True, slots=True)
class Policy:
    """Tunable rules of the day; every field has the spec's default."""

    max_distance_km: float = 150.0
    priority_weights: Mapping[int, float] = field(default_factory=lambda: DEFAULT_PRIORITY_WEIGHTS)
    road_factor: float = 1.3
    stop_minutes: float = 5.0
    unit_minutes: float = 0.5


@dataclass(frozen=True, slots=True)
class Scenario:
    """One day: the input of ``jessr solve``.

    ``categories`` maps id to :class:`Category` and always holds every category
    the supplies and requests use (the built-in catalogue when the file had none).
    """

    date: date
    categories: Mapping[str, Category]
    supplies: tuple[Supply, ...]
    requests: tuple[Request, ...]
    volunteers: tuple[Volunteer, ...] = ()
    policy: Policy = field(default_factory=Policy)
    version: int = 1
