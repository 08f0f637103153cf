"""Frozen input of the allocation solver.

Units: coordinates WGS84 degrees (lat, lon), quantities in whole units of the
category, distances km. Values follow the exchange format: a request's value per
unit is ``priority_weights[priority] × (1 + 0.01 × min(age_days, 30))``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

DEFAULT_WEIGHTS: Mapping[int, float] = MappingProxyType({1: 1.0, 2: 2.0, 3: 4.0, 4: 8.0, 5: 16.0})
MAX_AGE_BONUS_DAYS = 30


@dataclass(frozen=True, slots=True)
class Lot:
    """A supply lot: ``quantity`` units of ``category`` available at (lat, lon)."""

    id: str
    category: str
    quantity: int
    lat: float
    lon: float
    expires: date | None = None
    regions: frozenset[str] | None = None  # donor restriction on the request's region

    def __post_init__(self) -> None:
        _check_common("lot", self.id, self.quantity, self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class Need:
    """A request: ``quantity`` units of ``category`` for a household at (lat, lon)."""

    id: str
    category: str
    quantity: int
    lat: float
    lon: float
    region: str
    priority: int
    filed: date

    def __post_init__(self) -> None:
        _check_common("need", self.id, self.quantity, self.lat, self.lon)
        if not (1 <= self.priority <= 5):
            raise ValueError(f"need {self.id!r}: expected priority in [1, 5], got {self.priority}")


@dataclass(frozen=True, slots=True)
class MatchingProblem:
    """One day's allocation question.

    Eligibility of (lot, need): same category; lot not expired
    (``expires`` absent or on/after ``date``); ``need.region`` in ``lot.regions``
    when the lot is restricted; great-circle distance ≤ ``max_distance_km``.
    """

    date: date
    lots: tuple[Lot, ...]
    needs: tuple[Need, ...]
    weight_kg: Mapping[str, float]  # per unit, by category (effort = units × kg × km)
    max_distance_km: float = 150.0
    priority_weights: Mapping[int, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    # (lot id, need id) pairs not to use although eligible, e.g. because no
    # volunteer can carry them today (route-aware allocation). Unmet reasons
    # still follow eligibility alone: a banned pair makes a need "outcompeted".
    forbidden: frozenset[tuple[str, str]] = frozenset()
    # (lot id, need id) pairs a person excluded: never used either, and exactly these
    # pairs. A ``forbidden`` pair bans the lot's whole group of interchangeable lots
    # (what makes one undeliverable makes all undeliverable); an excluded lot is kept
    # out of any group instead, so that the lots beside it stay available to the need.
    excluded: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        if not (self.max_distance_km > 0 and math.isfinite(self.max_distance_km)):
            raise ValueError(f"expected max_distance_km > 0, got {self.max_distance_km}")
        for p in range(1, 6):
            w = self.priority_weights.get(p)
            if w is None or not (w > 0 and math.isfinite(w)):
                raise ValueError(f"expected a positive priority weight for {p}, got {w}")
        for c in {n.category for n in self.needs} | {lot.category for lot in self.lots}:
            w = self.weight_kg.get(c)
            if w is None or not w > 0:
                raise ValueError(f"expected a positive weight_kg for category {c!r}, got {w}")

    def value_per_unit(self, need: Need) -> float:
        """The exchange format's request value w(r)."""
        age = min(max((self.date - need.filed).days, 0), MAX_AGE_BONUS_DAYS)
        return self.priority_weights[need.priority] * (1.0 + 0.01 * age)


def _check_common(kind: str, ident: str, quantity: int, lat: float, lon: float) -> None:
    if not ident:
        raise ValueError(f"{kind}: expected a non-empty id")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValueError(f"{kind} {ident!r}: expected a positive integer quantity, got {quantity}")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"{kind} {ident!r}: expected lat in [-90, 90], lon in [-180, 180]")
