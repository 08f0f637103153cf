"""Problem data validation and the distance helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matching.geo import great_circle_km as solver_great_circle_km
from routing import (
    GeoRoutingProblem,
    RoutingProblem,
    Shipment,
    SolveParams,
    Vehicle,
    great_circle_km,
)


def test_distances_from_coordinates_are_one_function_to_the_bit() -> None:
    # The matrix, a geographic problem's on-demand legs and matching.geo agree exactly,
    # so a part's sub-matrix equals the block of the whole day's matrix.
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(30, 38, 60), rng.uniform(7, 12, 60)
    d = great_circle_km(lat, lon)
    assert np.all(np.diag(d) == 0.0)
    i, j = rng.integers(0, 60, 500), rng.integers(0, 60, 500)
    pairs = np.where(i == j, 0.0, solver_great_circle_km(lat[i], lon[i], lat[j], lon[j]))
    np.testing.assert_array_equal(d[i, j], pairs)
    geo = GeoRoutingProblem(lat, lon, 1.3, (), ())
    np.testing.assert_array_equal(geo.road_km(i, j), pairs * 1.3)
    with pytest.raises(ValueError, match="lat must be in"):
        great_circle_km([91.0], [0.0])


def test_from_coordinates_applies_road_factor_and_is_read_only() -> None:
    v = Vehicle("V1", 0, 0, 100.0, (480.0, 840.0))
    p = RoutingProblem.from_coordinates([36.8, 35.2], [10.2, 8.8], 1.3, [v], [])
    assert p.distance[0, 1] == pytest.approx(1.3 * great_circle_km([36.8, 35.2], [10.2, 8.8])[0, 1])
    with pytest.raises(ValueError):
        p.distance[0, 1] = 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": -1.0}, "capacity"),
        ({"shift": (600.0, 500.0)}, "shift"),
        ({"speed": 0.0}, "speed"),
        ({"shift": (0.0, math.inf)}, "shift end"),
    ],
)
def test_vehicle_rejects_bad_fields(kwargs: dict, message: str) -> None:
    args = {"id": "V1", "start": 0, "end": 0, "capacity": 10.0, "shift": (0.0, 100.0)}
    with pytest.raises(ValueError, match=message):
        Vehicle(**{**args, **kwargs})


def test_shipment_rejects_bad_window_and_load() -> None:
    with pytest.raises(ValueError, match="delivery_window"):
        Shipment("A1", 0, 1, 1.0, delivery_window=(10.0, 5.0))
    with pytest.raises(ValueError, match="load"):
        Shipment("A1", 0, 1, -1.0)


def test_problem_rejects_bad_matrix_duplicates_and_indices() -> None:
    v = Vehicle("V1", 0, 0, 10.0, (0.0, 100.0))
    s = Shipment("A1", 0, 1, 1.0)
    with pytest.raises(ValueError, match="square"):
        RoutingProblem(np.zeros((2, 3)), (v,), (s,))
    with pytest.raises(ValueError, match="duplicate"):
        RoutingProblem(np.zeros((2, 2)), (v,), (s, s))
    with pytest.raises(ValueError, match="outside"):
        RoutingProblem(np.zeros((2, 2)), (v,), (Shipment("A2", 0, 5, 1.0),))


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="time_limit"):
        SolveParams(time_limit=0)
    with pytest.raises(ValueError, match="backends"):
        SolveParams(backends=("gurobi",))
    assert SolveParams(backends=("pyvrp",)).shares == (0.95,)
    assert SolveParams(backends=("ortools",)).shares == (1.0,)
