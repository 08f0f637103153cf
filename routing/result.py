"""Solver results: routes with their stops, dropped shipments with reasons.

A result never is ``None``: ``status`` says what happened, ``dropped`` lists
every shipment not carried with a reason code (VROOM's ``unassigned`` plus our
reasons), and every returned route has been re-checked in float arithmetic by
:mod:`routing.evaluate`.
"""

from __future__ import annotations

import time
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing.problem import GeoRoutingProblem, RoutingProblem

VALUE_DIGITS = 9  # values compared after rounding: float sums differ in the last bits


class Status(Enum):
    """Outcome of :func:`routing.solve`."""

    OPTIMAL = "optimal"  # proven optimal (only trivial cases: everything served at 0 km)
    FEASIBLE = "feasible"  # a valid plan, not proven optimal
    EMPTY = "empty"  # nothing to route (no shipments or no vehicles)
    NO_SOLUTION = "no_solution"  # a required shipment could not be served


class DropReason(StrEnum):
    """Why a shipment (a plan's allocation) was not carried.

    One vocabulary end to end: routing's feasibility and backends drop with
    it, the engine's plan lists it as ``unrouted[].reason`` and the checker
    accepts exactly these values. A ``StrEnum``: each member *is* its string,
    so it compares equal to, and serialises as, the wire value.
    """

    NO_VOLUNTEERS = "no_volunteers"  # the day has no volunteer at all (routing not run)
    NO_VOLUNTEER_CAPACITY = "no_volunteer_capacity"  # feasible alone, fleet used up
    OUTSIDE_SHIFT = "outside_shift"  # no vehicle can do it and return within its shift
    WINDOW = "window"  # its windows can't be met by any vehicle even alone
    TOO_HEAVY = "too_heavy"  # load exceeds every vehicle's capacity
    UNREACHABLE = "unreachable"  # no vehicle at all, or otherwise impossible
    TIME_LIMIT = "time_limit"  # the solver found no place for it in time


Reason = DropReason  # the name before the engine shared it; kept for existing imports


@dataclass(frozen=True)
class Stop:
    """One stop: consecutive nodes of a route at one location.

    ``arrival`` is the service start (after any waiting) in time units;
    deliveries are unloaded before pickups are loaded; ``load_after`` is the
    load on board when leaving.
    """

    location: int
    arrival: float
    pickups: tuple[str, ...]
    deliveries: tuple[str, ...]
    load_after: float


@dataclass(frozen=True)
class Route:
    """A vehicle's route; ``distance``/``duration`` include the legs home.

    ``start_load`` is the load on board when leaving the start: the sum of
    the route's depot-loaded deliveries (``Shipment.pickup is None``), which
    have no pickup stop.
    """

    vehicle: str
    stops: tuple[Stop, ...]
    distance: float
    duration: float
    start_load: float = 0.0


@dataclass(frozen=True)
class Dropped:
    """A shipment left out, and why (a plain string is taken as its :class:`DropReason`)."""

    shipment: str
    reason: DropReason

    def __post_init__(self) -> None:
        # Producers may still pass the wire string; an unknown one is a bug.
        object.__setattr__(self, "reason", DropReason(self.reason))


@dataclass(frozen=True)
class Metrics:
    """Summary numbers of a result (the lexicographic objective first)."""

    delivered_value: float
    distance: float
    vehicles_used: int
    fixed_cost: float
    served: int
    dropped: int
    backend: str
    seconds: float


@dataclass(frozen=True)
class RoutingResult:
    """What :func:`routing.solve` returns.

    ``record``: for a time-limited solve, what its searches did, a versioned
    JSON-serialisable dict that ``SolveParams(replay=record)`` replays to the
    same routes without the clock (:mod:`routing.record`); ``None`` in
    iteration mode, which needs none.
    """

    status: Status
    routes: tuple[Route, ...]
    dropped: tuple[Dropped, ...]
    metrics: Metrics
    record: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def cost(self) -> float:
        """Distance plus fixed costs of used vehicles (the second objective)."""
        return self.metrics.distance + self.metrics.fixed_cost


def build_result(
    problem: RoutingProblem | GeoRoutingProblem,
    routes: Sequence[Route],
    reasons: Sequence[str | None],
    backend: str,
    started: float,
    timed_out: Container[int] = (),
) -> RoutingResult:
    """The :class:`RoutingResult` of valid ``routes`` of ``problem``.

    The one place a result is assembled, for every path of
    :func:`routing.solve`. ``reasons[k]`` is why shipment ``k`` can be
    carried by no vehicle even alone (``None``: it could); a shipment not
    carried without such a reason was left out for lack of time when ``k``
    is in ``timed_out``, else for lack of volunteer capacity. ``started`` is
    the ``time.monotonic()`` the solve started at.
    """
    ships = problem.shipments
    served = {problem.shipment_index(sid) for r in routes for s in r.stops for sid in s.deliveries}
    dropped = []
    for k, s in enumerate(ships):
        if k in served:
            continue
        left = Reason.TIME_LIMIT if k in timed_out else Reason.NO_VOLUNTEER_CAPACITY
        dropped.append(Dropped(s.id, reasons[k] or left.value))
    vehicle = {v.id: v for v in problem.vehicles}
    metrics = Metrics(
        delivered_value=round(sum(ships[k].value for k in served), VALUE_DIGITS),
        distance=sum(r.distance for r in routes),
        vehicles_used=len(routes),
        fixed_cost=sum(vehicle[r.vehicle].fixed_cost for r in routes),
        served=len(served),
        dropped=len(dropped),
        backend=backend,
        seconds=time.monotonic() - started,
    )
    if not ships or not problem.vehicles:
        status = Status.EMPTY
    elif any(s.required for k, s in enumerate(ships) if k not in served):
        status = Status.NO_SOLUTION
    elif not served and all(r is not None for r in reasons):
        status = Status.OPTIMAL  # nothing can be carried at all: the empty plan is optimal
    else:
        status = Status.FEASIBLE
    return RoutingResult(status, tuple(routes), tuple(dropped), metrics)
