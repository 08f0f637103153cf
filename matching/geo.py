"""Great-circle geometry, vectorised.

Distances are on a sphere of radius 6371.009 km (the mean Earth radius that
``geopy.distance.great_circle`` uses, which is what the exchange format names).
Coordinates are WGS84 decimal degrees, ``lat`` before ``lon``; results in km.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM = 6371.009


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


def great_circle_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Element-wise (broadcasting) great-circle distance in km.

    Uses the same formula as geopy's ``great_circle`` (atan2 of the Vincenty
    special case), which is well conditioned at all distances.
    """
    la1 = np.radians(np.asarray(lat1, dtype=np.float64))
    la2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlo = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    sin_la1, cos_la1 = np.sin(la1), np.cos(la1)
    sin_la2, cos_la2 = np.sin(la2), np.cos(la2)
    sin_dlo, cos_dlo = np.sin(dlo), np.cos(dlo)
    num = np.hypot(cos_la2 * sin_dlo, cos_la1 * sin_la2 - sin_la1 * cos_la2 * cos_dlo)
    den = sin_la1 * sin_la2 + cos_la1 * cos_la2 * cos_dlo
    return EARTH_RADIUS_KM * np.arctan2(num, den)


def distance_matrix_km(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """All-pairs great-circle distances (n×n) in km."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    return great_circle_km(la[:, None], lo[:, None], la[None, :], lo[None, :])
