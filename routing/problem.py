"""Frozen problem data for the routing solver.

Units are stated once, here, at the boundary:

* ``distance[i, j]`` is in *distance units* (Jessr: road kilometres); it need
  not be symmetric but must be finite and non-negative with a zero diagonal.
* times (shifts, windows, service, ``stop_time``) are in *time units*
  (Jessr: minutes since midnight of the plan date);
* ``Vehicle.speed`` is distance units per time unit (Jessr: ``speed_kmh / 60``),
  so travel time = distance / speed;
* ``Vehicle.fixed_cost`` is in distance units (a used vehicle costs as much as
  that many km); benchmarks use a large value to get "fewest vehicles first".

Every class validates itself at construction and raises ``ValueError`` naming
the offending record and field, so a solver never sees inconsistent data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from matching.geo import great_circle_km as _great_circle_km

INF = math.inf


def _check_window(owner: str, name: str, window: tuple[float, float]) -> None:
    if len(window) != 2:
        raise ValueError(f"{owner}: {name} must be a pair (open, close), got {window!r}")
    lo, hi = window
    if math.isnan(lo) or math.isnan(hi) or lo < 0 or hi < lo or lo == INF:
        raise ValueError(f"{owner}: {name} must satisfy 0 <= open <= close, got {window!r}")


@dataclass(frozen=True)
class Vehicle:
    """One vehicle (Jessr: a volunteer) with its home, capacity and shift.

    A route leaves ``start`` at ``shift[0]`` and must be back at ``end`` by
    ``shift[1]``; ``start``/``end`` are location indices into the distance
    matrix.
    """

    id: str
    start: int
    end: int
    capacity: float
    shift: tuple[float, float]
    speed: float = 1.0
    fixed_cost: float = 0.0

    def __post_init__(self) -> None:
        owner = f"vehicle {self.id!r}"
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"{owner}: id must be a non-empty string")
        if self.start < 0 or self.end < 0:
            raise ValueError(f"{owner}: start/end must be location indices >= 0")
        if not (self.capacity >= 0 and math.isfinite(self.capacity)):
            raise ValueError(f"{owner}: capacity must be finite and >= 0, got {self.capacity}")
        _check_window(owner, "shift", self.shift)
        if not math.isfinite(self.shift[1]):
            raise ValueError(f"{owner}: shift end must be finite, got {self.shift[1]}")
        if not (self.speed > 0 and math.isfinite(self.speed)):
            raise ValueError(f"{owner}: speed must be finite and > 0, got {self.speed}")
        if not (self.fixed_cost >= 0 and math.isfinite(self.fixed_cost)):
            raise ValueError(f"{owner}: fixed_cost must be finite and >= 0")
        object.__setattr__(self, "shift", (float(self.shift[0]), float(self.shift[1])))


@dataclass(frozen=True)
class Shipment:
    """A load to carry from ``pickup`` to ``delivery`` on one route.

    Windows bound the *start* of service at that node (waiting is allowed).
    ``value`` is what serving it is worth (Jessr: allocated value); optional
    shipments may be dropped, ``required`` ones must be served.

    ``pickup=None`` makes a *depot-loaded delivery*: the load is on board
    when the vehicle leaves its start (Jessr: a volunteer who keeps parcels
    at home; VRPTW/CVRP customers), so the route has no pickup stop for it,
    the load counts against the capacity from the start, and
    ``pickup_window``/``pickup_service`` are ignored. Backends model it
    natively (a PyVRP client with ``delivery``, a VROOM job, one OR-Tools
    node) instead of a pair with twice the nodes.
    """

    id: str
    pickup: int | None
    delivery: int
    load: float
    value: float = 1.0
    pickup_service: float = 0.0
    delivery_service: float = 0.0
    pickup_window: tuple[float, float] = (0.0, INF)
    delivery_window: tuple[float, float] = (0.0, INF)
    required: bool = False

    def __post_init__(self) -> None:
        owner = f"shipment {self.id!r}"
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"{owner}: id must be a non-empty string")
        if (self.pickup is not None and self.pickup < 0) or self.delivery < 0:
            raise ValueError(f"{owner}: pickup/delivery must be location indices >= 0")
        if not (self.load >= 0 and math.isfinite(self.load)):
            raise ValueError(f"{owner}: load must be finite and >= 0, got {self.load}")
        if not (self.value >= 0 and math.isfinite(self.value)):
            raise ValueError(f"{owner}: value must be finite and >= 0, got {self.value}")
        for name in ("pickup_service", "delivery_service"):
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)):
                raise ValueError(f"{owner}: {name} must be finite and >= 0, got {v}")
        _check_window(owner, "pickup_window", self.pickup_window)
        _check_window(owner, "delivery_window", self.delivery_window)
        object.__setattr__(self, "pickup_window", tuple(map(float, self.pickup_window)))
        object.__setattr__(self, "delivery_window", tuple(map(float, self.delivery_window)))

    @property
    def depot_loaded(self) -> bool:
        """Loaded at the vehicle's start before it leaves (no pickup stop)."""
        return self.pickup is None

    @property
    def first_location(self) -> int:
        """Where the shipment enters the route's geography: pickup, else delivery."""
        return self.delivery if self.pickup is None else self.pickup


@dataclass(frozen=True)
class RoutingProblem:
    """A pickup-and-delivery problem: distance matrix, vehicles, shipments.

    ``stop_time`` is the fixed time of one stop: consecutive nodes of a route
    at the same location form one stop and share it (Jessr: policy
    ``stop_minutes``). A stop unloads before it loads, so a shipment whose
    pickup and delivery are one location can't be served; two locations at
    distance 0 make two stops at one place (Jessr gives deliveries their own
    locations: ``engine.dispatch``). The distance matrix is stored as a
    read-only copy.
    """

    distance: np.ndarray
    vehicles: tuple[Vehicle, ...]
    shipments: tuple[Shipment, ...]
    stop_time: float = 0.0
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        d = np.array(self.distance, dtype=float, copy=True)
        if d.ndim != 2 or d.shape[0] != d.shape[1]:
            raise ValueError(f"distance must be a square matrix, got shape {d.shape}")
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise ValueError("distance must be finite and non-negative")
        if np.any(np.diag(d) != 0):
            raise ValueError("distance must have a zero diagonal")
        d.setflags(write=False)
        object.__setattr__(self, "distance", d)
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        object.__setattr__(self, "shipments", tuple(self.shipments))
        if not (self.stop_time >= 0 and math.isfinite(self.stop_time)):
            raise ValueError(f"stop_time must be finite and >= 0, got {self.stop_time}")
        object.__setattr__(
            self, "_index", validate_records(self.vehicles, self.shipments, d.shape[0])
        )

    @property
    def num_locations(self) -> int:
        """Number of locations (rows of the distance matrix)."""
        return int(self.distance.shape[0])

    def shipment_index(self, shipment_id: str) -> int:
        """Position of the shipment with this id in ``shipments``."""
        return self._index[shipment_id]

    @classmethod
    def from_coordinates(
        cls,
        lat: Sequence[float] | np.ndarray,
        lon: Sequence[float] | np.ndarray,
        road_factor: float,
        vehicles: Sequence[Vehicle],
        shipments: Sequence[Shipment],
        stop_time: float = 0.0,
    ) -> RoutingProblem:
        """Build a problem whose distances are road km between WGS84 points.

        Road km = ``road_factor`` × great-circle km on a sphere of radius
        6371.009 km (what the Jessr checker uses), computed once, vectorised.
        """
        if not (road_factor > 0 and math.isfinite(road_factor)):
            raise ValueError(f"road_factor must be finite and > 0, got {road_factor}")
        return cls(
            great_circle_km(lat, lon) * road_factor, tuple(vehicles), tuple(shipments), stop_time
        )

    @classmethod
    def from_euclidean(
        cls,
        xy: Sequence[Sequence[float]] | np.ndarray,
        vehicles: Sequence[Vehicle],
        shipments: Sequence[Shipment],
        stop_time: float = 0.0,
    ) -> RoutingProblem:
        """Build a problem with exact (unrounded) Euclidean distances (Li & Lim)."""
        pts = np.asarray(xy, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"xy must be an (n, 2) array, got shape {pts.shape}")
        diff = pts[:, None, :] - pts[None, :, :]
        return cls(np.sqrt((diff**2).sum(-1)), tuple(vehicles), tuple(shipments), stop_time)


@dataclass(frozen=True)
class GeoRoutingProblem:
    """A pickup-and-delivery problem on WGS84 points instead of a matrix.

    Same vehicles, shipments and location-index semantics as
    :class:`RoutingProblem`; the distance between locations
    ``i`` and ``j`` is ``road_factor`` × great-circle km, computed on demand
    with exactly the formula of :func:`great_circle_km`, so
    any sub-matrix equals the corresponding block of the full matrix that
    :meth:`RoutingProblem.from_coordinates` would build.
    """

    lat: np.ndarray
    lon: np.ndarray
    road_factor: float
    vehicles: tuple[Vehicle, ...]
    shipments: tuple[Shipment, ...]
    stop_time: float = 0.0
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        la = np.array(self.lat, dtype=float, copy=True)
        lo = np.array(self.lon, dtype=float, copy=True)
        if la.ndim != 1 or la.shape != lo.shape:
            raise ValueError("lat and lon must be 1-d arrays of equal length")
        if not (np.all(np.abs(la) <= 90) and np.all(np.abs(lo) <= 180)):
            raise ValueError("lat must be in [-90, 90] and lon in [-180, 180]")
        if not (self.road_factor > 0 and math.isfinite(self.road_factor)):
            raise ValueError(f"road_factor must be finite and > 0, got {self.road_factor}")
        if not (self.stop_time >= 0 and math.isfinite(self.stop_time)):
            raise ValueError(f"stop_time must be finite and >= 0, got {self.stop_time}")
        la.setflags(write=False)
        lo.setflags(write=False)
        object.__setattr__(self, "lat", la)
        object.__setattr__(self, "lon", lo)
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        object.__setattr__(self, "shipments", tuple(self.shipments))
        # The same record checks as RoutingProblem, without a matrix.
        object.__setattr__(
            self, "_index", validate_records(self.vehicles, self.shipments, la.shape[0])
        )

    @property
    def num_locations(self) -> int:
        """Number of locations (length of ``lat``/``lon``)."""
        return int(self.lat.shape[0])

    def shipment_index(self, shipment_id: str) -> int:
        """Position of the shipment with this id in ``shipments``."""
        return self._index[shipment_id]

    def road_km(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Road km from locations ``a`` to locations ``b`` (broadcast index arrays)."""
        a, b = np.asarray(a), np.asarray(b)
        # The function great_circle_km's matrix is built from: equal floats to the bit.
        d = _great_circle_km(self.lat[a], self.lon[a], self.lat[b], self.lon[b])
        return np.where(a == b, 0.0, d) * self.road_factor

    def to_problem(self) -> RoutingProblem:
        """The dense-matrix problem (only for small problems and parts)."""
        return RoutingProblem.from_coordinates(
            self.lat, self.lon, self.road_factor, self.vehicles, self.shipments, self.stop_time
        )

    def part(
        self, ships: Sequence[int], vehs: Sequence[int]
    ) -> tuple[GeoRoutingProblem, np.ndarray]:
        """These shipments and vehicles on compacted locations.

        Returns (part problem, ``locs``) with ``locs[local] = global`` location;
        shipment and vehicle ids are kept, so results map back by id.
        """
        vs = [self.vehicles[v] for v in vehs]
        ss = [self.shipments[k] for k in ships]
        used = {v.start for v in vs} | {v.end for v in vs}
        used |= {s.first_location for s in ss} | {s.delivery for s in ss}
        locs = np.array(sorted(used), dtype=np.int64)
        new = {int(g): i for i, g in enumerate(locs)}
        part = GeoRoutingProblem(
            self.lat[locs],
            self.lon[locs],
            self.road_factor,
            tuple(replace(v, start=new[v.start], end=new[v.end]) for v in vs),
            tuple(
                replace(
                    s,
                    pickup=None if s.pickup is None else new[s.pickup],
                    delivery=new[s.delivery],
                )
                for s in ss
            ),
            self.stop_time,
        )
        return part, locs


def great_circle_km(
    lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray
) -> np.ndarray:
    """All-pairs great-circle km (n×n, zero diagonal) of validated WGS84 points.

    The distance itself is :func:`matching.geo.great_circle_km` (geopy's formula).
    """
    la = np.asarray(lat, dtype=float)
    lo = np.asarray(lon, dtype=float)
    if la.shape != lo.shape or la.ndim != 1:
        raise ValueError("lat and lon must be 1-d arrays of equal length")
    if np.any(np.abs(la) > 90) or np.any(np.abs(lo) > 180):
        raise ValueError("lat must be in [-90, 90] and lon in [-180, 180]")
    d = _great_circle_km(la[:, None], lo[:, None], la[None, :], lo[None, :])
    np.fill_diagonal(d, 0.0)
    return d


def validate_records(
    vehicles: tuple[Vehicle, ...], shipments: tuple[Shipment, ...], n: int
) -> dict[str, int]:
    """Check record types, unique ids and location indices below ``n``.

    Returns the shipment id → position index. Shared by every problem type so
    that a matrix-backed and a coordinate-backed problem accept the same data.
    """
    seen: set[str] = set()
    for v in vehicles:
        if not isinstance(v, Vehicle):
            raise ValueError(f"vehicles must hold Vehicle records, got {type(v).__name__}")
        if v.id in seen:
            raise ValueError(f"vehicle {v.id!r}: duplicate id")
        seen.add(v.id)
        if v.start >= n or v.end >= n:
            raise ValueError(f"vehicle {v.id!r}: start/end outside the {n} locations")
    index: dict[str, int] = {}
    for k, s in enumerate(shipments):
        if not isinstance(s, Shipment):
            raise ValueError(f"shipments must hold Shipment records, got {type(s).__name__}")
        if s.id in index:
            raise ValueError(f"shipment {s.id!r}: duplicate id")
        index[s.id] = k
        if (s.pickup is not None and s.pickup >= n) or s.delivery >= n:
            raise ValueError(f"shipment {s.id!r}: pickup/delivery outside the {n} locations")
    return index
