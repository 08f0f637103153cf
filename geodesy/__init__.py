"""Great-circle distance, vectorised: the one implementation the solvers share.

The exchange format defines distance as the great-circle distance on a sphere
of radius 6371.009 km, "what ``geopy.distance.great_circle`` computes".
Coordinates are WGS84 decimal degrees, ``lat`` before ``lon``; results in km.

Why a package of its own: ``matching`` and ``routing`` are sibling solvers
that import neither each other nor ``engine``; both need this function, so it
sits one layer below them, pure numpy. (``engine.checker`` deliberately does
not use it: the checker is an independent verifier and measures with geopy
itself.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_RADIUS_KM", "great_circle_km"]

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
