"""Frozen records of a plan (the output of ``jessr solve``), format version 1."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PlanAllocation:
    id: str
    supply: str
    request: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PlanVisit:
    lat: float
    lon: float
    arrival: int  # minutes after midnight
    pickups: tuple[str, ...] = ()  # allocation ids
    deliveries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanRoute:
    volunteer: str
    visits: tuple[PlanVisit, ...]
    distance_km: float


@dataclass(frozen=True, slots=True)
class Unrouted:
    allocation: str
    reason: str  # no_routing, no_volunteers, no_volunteer_capacity, outside_shift, window, ...


@dataclass(frozen=True, slots=True)
class Unmet:
    request: str
    quantity: int
    reason: str  # no_supply | outcompeted


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[PlanAllocation, ...]
    routes: tuple[PlanRoute, ...] = ()
    unrouted: tuple[Unrouted, ...] = ()
    unmet: tuple[Unmet, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    version: int = 1
