"""Fixtures for routing tests: a factory of random small problems, a VROOM spy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from routing import RoutingProblem, Shipment, Vehicle


def random_problem(
    seed: int,
    shipments: int = 8,
    vehicles: int = 2,
    stop_time: float = 2.0,
    required: bool = False,
) -> RoutingProblem:
    """A random Jessr-like problem on a 50×50 km square, shifts of 4 hours.

    Pickups share a few depots (supplies) so consecutive same-place stops
    occur; windows are random, some tight; loads sometimes exceed capacity.
    """
    rng = np.random.default_rng(seed)
    n_sup = max(2, shipments // 3)
    xy = rng.uniform(0, 50, size=(vehicles + n_sup + shipments, 2))
    homes = list(range(vehicles))
    supplies = list(range(vehicles, vehicles + n_sup))
    vehs = [
        Vehicle(
            id=f"V{i}",
            start=homes[i],
            end=homes[i],
            capacity=float(rng.choice([30.0, 60.0, 100.0])),
            shift=(480.0, 480.0 + float(rng.choice([120.0, 240.0]))),
            speed=float(rng.choice([0.5, 0.75])),  # km per minute
        )
        for i in range(vehicles)
    ]
    ships = []
    for k in range(shipments):
        open_ = 480.0 + float(rng.uniform(0, 180))
        wide = bool(rng.random() < 0.5)
        units = int(rng.integers(1, 4))
        ships.append(
            Shipment(
                id=f"A{k}",
                pickup=int(rng.choice(supplies)),
                delivery=vehicles + n_sup + k,
                load=15.0 * units,
                value=float(rng.choice([1.0, 2.0, 4.0, 8.0, 16.0])) * units,
                pickup_service=0.5 * units,
                delivery_service=0.5 * units,
                delivery_window=(480.0, 720.0) if wide else (open_, open_ + 60.0),
                required=required,
            )
        )
    return RoutingProblem.from_euclidean(xy, vehs, ships, stop_time=stop_time)


@pytest.fixture
def make_problem() -> Callable[..., RoutingProblem]:
    """Factory: ``make_problem(seed, shipments=8, vehicles=2, ...)``."""
    return random_problem


@pytest.fixture
def vroom_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The keyword arguments of every VROOM search started in this process."""
    import vroom

    seen: list[dict[str, object]] = []
    original = vroom.Input.solve

    def spy(self: vroom.Input, *args: object, **kwargs: object) -> object:
        seen.append(dict(kwargs))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vroom.Input, "solve", spy)
    return seen
