"""Sphere geometry for the allocation: nearest-neighbour helpers, vectorised.

Distance is the exchange format's: the great-circle distance on a sphere of
radius 6371.009 km, "what ``geopy.distance.great_circle`` computes".
:func:`great_circle_km` is the one implementation the solvers share:
``routing`` imports it from here (``matching`` never imports ``routing``, so
the dependency points one way). ``engine.checker`` deliberately does not use
it: the checker is an independent verifier and measures with geopy itself.
Coordinates are WGS84 decimal degrees, ``lat`` before ``lon``; results in km.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_RADIUS_KM", "chord_for_km", "great_circle_km", "unit_vectors"]

EARTH_RADIUS_KM = 6371.009  # geopy.distance.great_circle's sphere, named by the spec


def great_circle_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle km between points 1 and points 2, element-wise with broadcasting.

    All pairs of one point set: ``great_circle_km(lat[:, None], lon[:, None],
    lat[None, :], lon[None, :])``. The expression is geopy's, term for term (the
    atan2 form of Vincenty's special case, well conditioned for coincident,
    tiny and antipodal distances alike, unlike acos or haversine). Each element
    depends on its own two points only, so any block of an all-pairs matrix
    equals, to the bit, the same pairs computed alone.
    """
    la1 = np.radians(np.asarray(lat1, dtype=np.float64))
    la2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlon = np.radians(np.asarray(lon2, dtype=np.float64)) - np.radians(
        np.asarray(lon1, dtype=np.float64)
    )
    sin1, cos1 = np.sin(la1), np.cos(la1)
    sin2, cos2 = np.sin(la2), np.cos(la2)
    cos_d, sin_d = np.cos(dlon), np.sin(dlon)
    y = np.sqrt((cos2 * sin_d) ** 2 + (cos1 * sin2 - sin1 * cos2 * cos_d) ** 2)
    x = sin1 * sin2 + cos1 * cos2 * cos_d
    return EARTH_RADIUS_KM * np.arctan2(y, x)


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
