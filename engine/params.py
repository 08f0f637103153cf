"""``DayParams``: everything that steers one day's solve, frozen and validated.

One object passed to :func:`engine.solve.solve_scenario` (PyVRP's
``SolveParams`` style): the caller's choices (time limit, iterations, seed,
workers, route-aware allocation) and the day's tuning constants, each with
the measurement that chose it. Tests and services vary a day by building
another ``DayParams`` (``dataclasses.replace``), never by patching module
globals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from routing.params import BACKENDS

# A day's solve must end: a limit beyond a year is a typo or ``1e308``, not a plan.
MAX_TIME_LIMIT = 365 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class DayParams:
    """Parameters of one day's solve (:func:`engine.solve.solve_scenario`).

    * ``time_limit``: seconds for the whole call; the exact allocation takes
      what it needs and routing gets the rest (at least
      ``min_routing_seconds``).
    * ``iterations``: when set, routing is bounded by this many iterations
      instead of wall time (a reproducible plan); ``None`` bounds it by
      ``time_limit`` alone.
    * ``seed``: the routing seed. ``workers``: cores to use (processes for
      independent parts, or VROOM's search threads on a day routed in one
      piece).
    * ``route_aware``: with volunteers, re-allocate the stock of undelivered
      allocations once (the feedback loop of :mod:`engine.solve`); off, one
      allocation then one routing.
    * ``day_backends`` / ``day_shares``: the routing portfolio of round 1 (or
      of the only round). Jessr's days are prize-collecting (volunteers are
      scarce: most shipments stay optional), where VROOM's search keeps
      improving with time and PyVRP is the better polish. Measured on a
      generated 2,000-request / 60-volunteer day at 18 s: delivered value
      5,885 with VROOM 85 % / PyVRP 15 %, 5,875 with VROOM alone, 5,397 with
      the benchmark portfolio (VROOM 5 %, PyVRP 80 %, OR-Tools 15 %).
    * ``round1_share``: round 1's share of the routing budget. Measured
      (generated 2,000-request / 300-lot / 60-volunteer days, 20 s, seeds
      1-3, checker D): 0.6 with VROOM+PyVRP in round 2 lost to the two-stage
      plan on median (5,922 vs 5,949); 0.8 with PyVRP alone in round 2 beat
      it on every seed (6,218 / 6,836 / 6,112 vs 5,968 / 6,759 / 5,887).
    * ``round2_backends``: round 2 starts from round 1's routes: a cold VROOM
      construction would only spend its share rediscovering them, so PyVRP's
      search takes it all.
    * ``min_routing_seconds``: the least routing budget of a round; round 2
      is skipped when less is left.
    * ``assembly_seconds``: kept back from routing for turning its routes
      into the plan (about 0.1 s at 35,000 allocations).
    * ``max_trips``: the most vehicle loads one volunteer is taken to carry
      in a day (fewer when the shift cannot hold that many stops). A load
      heavier than the largest vehicle is split into vehicle-sized pieces:
      every allocation is one piece, and the further pieces all together are
      at most what the fleet can carry in a day; what a load has beyond its
      pieces stays one unrouted allocation. The work grows with the records,
      not with the units: 10⁹ units for one volunteer are 66 allocations.
    * ``decompose_above`` / ``part_size``: routing solves a day in
      geographic parts above this many shipments, about ``part_size`` each
      (``None``: routing's own defaults, :class:`routing.SolveParams`).
    * ``min_parts``: at least this many parts per regional round (``None``: 1).
      A time-limited day sent to many Celery workers gets
      :data:`engine.executors.PARTS_PER_WORKER` per worker process, so every
      worker has work on a day of few parts; it is stored with the batch, so a
      replay cuts the same parts. An iteration-bounded day keeps ``None``
      unless asked: its plan must not depend on how many workers there were.
    """

    time_limit: float = 30.0
    iterations: int | None = None
    seed: int = 0
    workers: int = 2
    route_aware: bool = True
    day_backends: tuple[str, ...] = ("vroom", "pyvrp")
    day_shares: tuple[float, ...] = (0.85, 0.15)
    round1_share: float = 0.8
    round2_backends: tuple[str, ...] = ("pyvrp",)
    min_routing_seconds: float = 1.0
    assembly_seconds: float = 0.3
    max_trips: int = 64
    decompose_above: int | None = None
    part_size: int | None = None
    min_parts: int | None = None

    def __post_init__(self) -> None:
        _number("time_limit", self.time_limit, "a finite number of seconds")
        if not 0 < self.time_limit <= MAX_TIME_LIMIT:
            raise ValueError(
                f"time_limit: expected seconds in (0, {MAX_TIME_LIMIT:.0f}], got {self.time_limit}"
            )
        if self.iterations is not None:
            _integer("iterations", self.iterations)
            if self.iterations < 1:
                raise ValueError(
                    f"iterations: expected an integer >= 1 or None, got {self.iterations}"
                )
        _integer("seed", self.seed)
        _integer("workers", self.workers)
        if self.workers < 1:
            raise ValueError(f"workers: expected an integer >= 1, got {self.workers}")
        if not isinstance(self.route_aware, bool):
            raise ValueError(f"route_aware: expected True or False, got {self.route_aware!r}")
        _backends("day_backends", self.day_backends)
        _backends("round2_backends", self.round2_backends)
        if len(self.day_shares) != len(self.day_backends):
            raise ValueError(
                f"day_shares: expected one share per day backend ({len(self.day_backends)}), "
                f"got {len(self.day_shares)}"
            )
        for s in self.day_shares:
            _number("day_shares", s, "finite shares >= 0")
        # Shares are relative (routing gives each backend its share of what is
        # left), so they need not sum to 1; a 0 makes a backend a fallback.
        if any(s < 0 for s in self.day_shares) or not any(s > 0 for s in self.day_shares):
            raise ValueError(
                f"day_shares: expected shares >= 0, at least one > 0, got {self.day_shares}"
            )
        _number("round1_share", self.round1_share, "a share in (0, 1]")
        if not 0 < self.round1_share <= 1:
            raise ValueError(f"round1_share: expected a share in (0, 1], got {self.round1_share}")
        for name in ("min_routing_seconds", "assembly_seconds"):
            value = getattr(self, name)
            _number(name, value, "a finite number of seconds")
            if value < 0 or (name == "min_routing_seconds" and value == 0):
                low = "> 0" if name == "min_routing_seconds" else ">= 0"
                raise ValueError(f"{name}: expected seconds {low}, got {value}")
        _integer("max_trips", self.max_trips)
        if self.max_trips < 1:
            raise ValueError(f"max_trips: expected an integer >= 1, got {self.max_trips}")
        for name in ("decompose_above", "part_size", "min_parts"):
            value = getattr(self, name)
            if value is not None:
                _integer(name, value)
                if value < 1:
                    raise ValueError(f"{name}: expected an integer >= 1 or None, got {value}")


def _number(name: str, value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: expected {what}, got {value!r}")


def _integer(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an integer, got {value!r}")


def _backends(name: str, backends: tuple[str, ...]) -> None:
    if (
        not backends
        or any(b not in BACKENDS for b in backends)
        or len(set(backends)) != len(backends)
    ):
        raise ValueError(
            f"{name}: expected distinct backends among {BACKENDS}, at least one, got {backends!r}"
        )
