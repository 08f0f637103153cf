"""The float evaluator on hand-made routes (one passing, one failing per rule)."""

from __future__ import annotations

import numpy as np
import pytest

from routing import RoutingProblem, Shipment, Vehicle, check_route
from routing.evaluate import delivery, pickup


def line_problem(
    capacity: float = 10.0, window: tuple[float, float] = (0.0, 1e9)
) -> RoutingProblem:
    """Home at 0, supply at 10, two households at 20 (distances on a line)."""
    xy = [(0.0, 0.0), (10.0, 0.0), (20.0, 0.0)]
    veh = Vehicle("V", 0, 0, capacity, (0.0, 100.0), speed=1.0)
    ships = (
        Shipment("A", 1, 2, 4.0, pickup_service=1.0, delivery_service=1.0, delivery_window=window),
        Shipment("B", 1, 2, 4.0, pickup_service=1.0, delivery_service=1.0),
    )
    return RoutingProblem.from_euclidean(np.array(xy), (veh,), ships, stop_time=5.0)


def test_consecutive_nodes_at_one_place_share_one_stop_time() -> None:
    p = line_problem()
    chk = check_route(p, 0, [pickup(0), pickup(1), delivery(0), delivery(1)])
    assert chk.feasible
    assert len(chk.stops) == 2
    # 10 km out, stop 5 + 2×1 service, 10 km on, stop 5 + 2, 20 km home.
    assert chk.stops[1].arrival == pytest.approx(27.0)
    assert chk.duration == pytest.approx(54.0)
    assert chk.distance == pytest.approx(40.0)


def test_capacity_counts_deliveries_before_pickups() -> None:
    assert check_route(line_problem(capacity=8.0), 0, [0, 2, 1, 3]).feasible
    bad = check_route(line_problem(capacity=7.0), 0, [0, 2, 1, 3])
    assert not bad.feasible and "capacity" in (bad.error or "")


def test_window_must_contain_service_start_with_waiting_allowed() -> None:
    ok = check_route(line_problem(window=(50.0, 60.0)), 0, [0, 2, 1, 3])
    assert ok.feasible and ok.stops[1].arrival == 50.0
    late = check_route(line_problem(window=(0.0, 26.0)), 0, [0, 2, 1, 3])
    assert not late.feasible and late.culprit == 0


def test_shift_end_and_precedence_and_pairing() -> None:
    p = line_problem()
    short = RoutingProblem(
        p.distance, (Vehicle("V", 0, 0, 10.0, (0.0, 53.0)),), p.shipments, p.stop_time
    )
    assert not check_route(short, 0, [0, 2, 1, 3]).feasible
    assert not check_route(p, 0, [1, 0]).feasible  # delivery before pickup
    assert not check_route(p, 0, [0]).feasible  # never delivered
