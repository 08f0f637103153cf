"""The one great-circle distance the solvers share, against the spec's reference (geopy)."""

from __future__ import annotations

import numpy as np
from geopy.distance import great_circle

from matching.geo import EARTH_RADIUS_KM, great_circle_km

EDGE_CASES = [
    (36.8, 10.18, 36.8, 10.18),  # coincident
    (36.8, 10.18, 36.8 + 1e-9, 10.18),  # ~0.1 mm
    (0.0, 0.0, 0.0, 180.0),  # antipodal
    (90.0, 0.0, -90.0, 0.0),  # pole to pole
    (10.0, 179.9, 10.0, -179.9),  # across the antimeridian
    (-33.9, 18.4, 35.7, 139.7),
]


def test_agrees_with_geopy_everywhere() -> None:
    rng = np.random.default_rng(20261128)
    random = rng.uniform((-90, -180, -90, -180), (90, 180, 90, 180), size=(2000, 4))
    points = np.vstack([random, np.array(EDGE_CASES)])
    ours = great_circle_km(points[:, 0], points[:, 1], points[:, 2], points[:, 3])
    reference = [great_circle((a, b), (c, d)).km for a, b, c, d in points.tolist()]
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-9)
    assert ours[len(random)] == 0.0  # coincident points: exactly zero
    assert abs(ours[len(random) + 2] - np.pi * EARTH_RADIUS_KM) < 1e-9


def test_broadcasts_to_all_pairs() -> None:
    lat = np.array([36.8065, 35.1676, 33.8869])
    lon = np.array([10.1815, 8.8365, 9.5375])
    d = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    assert d.shape == (3, 3)
    np.testing.assert_allclose(d, d.T, rtol=1e-14)  # symmetric up to rounding
    assert d[1, 2] == great_circle_km(lat[1], lon[1], lat[2], lon[2])
