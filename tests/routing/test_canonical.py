"""``routing.canonical``: equal-cost alternatives map to one representative."""

from __future__ import annotations

from routing import RoutingProblem, Shipment, Vehicle
from routing.canonical import canonical_routes
from routing.evaluate import check_route
from routing.scaling import integer_model


def ring(vehicles: int) -> RoutingProblem:
    """A depot and six clients symmetric about the x axis: a tour and its mirror tie."""
    xy = [(0.0, 0.0), (1.0, 2.0), (3.0, 3.0), (5.0, 1.0), (5.0, -1.0), (3.0, -3.0), (1.0, -2.0)]
    vehs = [Vehicle(f"V{i}", 0, 0, capacity=100.0, shift=(0.0, 1000.0)) for i in range(vehicles)]
    ships = [Shipment(f"S{k}", pickup=None, delivery=k + 1, load=1.0) for k in range(6)]
    return RoutingProblem.from_euclidean(xy, vehs, ships)


def test_a_route_and_its_mirror_come_out_the_same() -> None:
    problem = ring(1)
    im = integer_model(problem)
    forward = [1, 3, 5, 7, 9, 11]  # delivery codes of shipments 0..5, around the ring
    mirror = forward[::-1]
    a = canonical_routes(problem, im, {0: forward})
    b = canonical_routes(problem, im, {0: mirror})
    assert a == b == {0: forward}
    assert check_route(problem, 0, a[0]).feasible


def test_a_cheaper_order_is_not_mistaken_for_a_tie() -> None:
    problem = ring(1)
    im = integer_model(problem)
    zigzag = [1, 9, 3, 11, 5, 7]  # longer than the ring: no equal-cost reversal to the ring
    out = canonical_routes(problem, im, {0: zigzag})
    cost = check_route(problem, 0, out[0]).distance
    assert cost == check_route(problem, 0, zigzag).distance


def test_routes_of_interchangeable_vehicles_are_assigned_in_order() -> None:
    problem = ring(3)
    im = integer_model(problem)
    north, south = [1, 3, 5], [7, 9, 11]
    a = canonical_routes(problem, im, {2: north, 1: south})
    b = canonical_routes(problem, im, {0: south, 2: north})
    assert a == b
    assert sorted(a) == [0, 1]
