"""Exact integer request values.

``w(r) = pw[priority] × (1 + 0.01 × min(age, 30))``. With the weights scaled by
``10^k`` to integers, ``w(r) × 100 × 10^k = pw_int × (100 + age)`` is an exact
integer, so the flow model compares values without any rounding. ``k`` is the
fewest decimals that make every weight whole (weights with more than six
decimals are rounded at the sixth, the only inexact case).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

MAX_DECIMALS = 6


def integer_weights(weights: Mapping[int, float]) -> dict[int, int]:
    """Priority weights scaled by the smallest power of ten that makes them integers."""
    for k in range(MAX_DECIMALS + 1):
        scaled = {p: w * 10**k for p, w in weights.items()}
        if all(abs(v - round(v)) < 1e-9 * max(1.0, abs(v)) for v in scaled.values()):
            return {p: round(v) for p, v in scaled.items()}
    return {p: round(w * 10**MAX_DECIMALS) for p, w in weights.items()}


def scaled_values(
    priorities: NDArray[np.int64], ages: NDArray[np.int64], weights: Mapping[int, float]
) -> NDArray[np.int64]:
    """Exact integer value per unit for each need (ages already clipped to [0, 30])."""
    table = np.zeros(6, dtype=np.int64)
    for p, w in integer_weights(weights).items():
        table[p] = w
    return table[priorities] * (100 + ages)
