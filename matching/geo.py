"""Sphere geometry for the allocation: nearest-neighbour helpers, vectorised.

The distance itself is :func:`geodesy.great_circle_km` (re-exported here with
``EARTH_RADIUS_KM``): one implementation shared with ``routing``. Coordinates
are WGS84 decimal degrees, ``lat`` before ``lon``; results in km.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geodesy import EARTH_RADIUS_KM, great_circle_km

__all__ = ["EARTH_RADIUS_KM", "chord_for_km", "great_circle_km", "unit_vectors"]


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Points on the unit sphere (n×3): chord length is monotone in great-circle distance,
    so a KD-tree over these answers nearest-neighbour questions exactly."""
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def chord_for_km(km: float) -> float:
    """The unit-sphere chord length of a great-circle distance of ``km``."""
    angle = min(km / EARTH_RADIUS_KM, np.pi)
    return float(2.0 * np.sin(angle / 2.0))
