"""Helpers shared by the matrix-based backends (OR-Tools, VROOM)."""

from __future__ import annotations

import numpy as np

from routing.problem import RoutingProblem


def local_locations(problem: RoutingProblem, active: list[int]) -> tuple[np.ndarray, int]:
    """Backend location list: vehicle homes first, then client locations.

    Homes get their own entries even when a client shares their coordinates,
    so that "leaving a stop" (pays the stop time) and "leaving home" (does not)
    are different rows of the duration matrix. Returns (problem locations,
    number of homes).
    """
    ships = problem.shipments
    homes = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    clients = sorted(
        {ships[k].first_location for k in active} | {ships[k].delivery for k in active}
    )
    return np.array(homes + clients, dtype=np.int64), len(homes)


def leave_stop_matrix(size: int, num_homes: int, stop: int) -> np.ndarray:
    """``stop`` on every edge leaving a client location for another location."""
    extra = np.zeros((size, size), dtype=np.int64)
    extra[num_homes:, :] = stop
    np.fill_diagonal(extra, 0)
    return extra
