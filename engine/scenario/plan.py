"""Frozen records of a plan (the output of ``jessr solve``), format version 1."""

from __future__ import annotations

from dataclasses import dataclass, field

from matching.result import UnmetReason
from routing.result import DropReason


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
    """An allocation no route carries, and why (a wire string is taken as its enum)."""

    allocation: str
    reason: DropReason

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", DropReason(self.reason))


@dataclass(frozen=True, slots=True)
class Unmet:
    """A request not fully served: the missing units, and why."""

    request: str
    quantity: int
    reason: UnmetReason

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", UnmetReason(self.reason))


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[PlanAllocation, ...]
    routes: tuple[PlanRoute, ...] = ()
    unrouted: tuple[Unrouted, ...] = ()
    unmet: tuple[Unmet, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    version: int = 1
