"""Allocation solver: which supply lot serves which request, exactly.

Pure: frozen :class:`MatchingProblem` in, :class:`MatchingResult` out. Never
imports SQLAlchemy, Flask, ``engine`` or ``web``.
"""

from matching.problem import Lot, MatchingProblem, Need
from matching.result import (
    Allocation,
    ExcludedLot,
    LotExclusion,
    MatchingResult,
    Metrics,
    Status,
    UnmetNeed,
    UnmetReason,
)
from matching.solver import MatchingParams, solve
from matching.value import ValueRangeError

__all__ = [
    "Allocation",
    "ExcludedLot",
    "Lot",
    "LotExclusion",
    "MatchingParams",
    "MatchingProblem",
    "MatchingResult",
    "Metrics",
    "Need",
    "Status",
    "UnmetNeed",
    "UnmetReason",
    "ValueRangeError",
    "solve",
]
