"""What the allocation solver returns: allocations, and what was left out and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum


class Status(Enum):
    """Outcome of :func:`matching.solve`."""

    OPTIMAL = "optimal"  # V is the LP optimum and E the least effort at that V
    EMPTY = "empty"  # nothing to allocate (no eligible pair at all)


class UnmetReason(StrEnum):
    """Why a need is not fully served; the plan's ``unmet[].reason`` (exactly these values)."""

    NO_SUPPLY = "no_supply"  # no eligible lot exists at all
    OUTCOMPETED = "outcompeted"  # eligible lots existed but served more valuable needs


class LotExclusion(Enum):
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Allocation:
    lot: str
    need: str
    quantity: int
    distance_km: float


@dataclass(frozen=True, slots=True)
class UnmetNeed:
    need: str
    quantity: int  # the missing units
    reason: UnmetReason


@dataclass(frozen=True, slots=True)
class ExcludedLot:
    lot: str
    reason: LotExclusion


@dataclass(frozen=True, slots=True)
class Metrics:
    allocated_value: float  # V
    effort_kg_km: float  # E
    total_need_value: float  # value of every need served in full (an upper bound on V)
    eligible_pairs: int  # pairs checked by the optimality certificate
    candidate_arcs: int  # arcs the flow model finally carried
    pricing_rounds: int
    seconds: float


@dataclass(frozen=True, slots=True)
class MatchingResult:
    status: Status
    allocations: tuple[Allocation, ...]
    unmet: tuple[UnmetNeed, ...]
    excluded_lots: tuple[ExcludedLot, ...]
    metrics: Metrics
    by_category: dict[str, Metrics] = field(default_factory=dict)
