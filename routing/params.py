"""Solver parameters (frozen, validated at construction, PyVRP style)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BACKENDS = ("pyvrp", "ortools", "vroom")


@dataclass(frozen=True)
class SolveParams:
    """Parameters of :func:`routing.solve`.

    * ``time_limit``: wall-clock seconds for the whole solve (all backends and
      repair). Backends run one after another in ``backends`` order, each with
      its share (``shares``) of what is left; the fast ``vroom`` constructor
      seeds the others. A share of 0 makes a backend a *fallback*: it runs,
      on the time left, only when every backend before it failed. Default:
      VROOM 5 %, PyVRP all the rest, OR-Tools fallback (measurements in
      ``routing/README.md``).
    * ``max_iterations``: when set, backends stop by iteration count instead of
      wall time (PyVRP: ILS iterations; OR-Tools: local search solutions;
      VROOM runs without a timeout, its equal-cost ties canonicalised by
      :mod:`routing.canonical`). ``time_limit`` still caps the run, so
      the result is reproducible only while the clock never binds; for a
      replay that must hold on any machine, use ``iterations``.
    * ``iterations``: when set, the solve is bounded by work, not wall time,
      and is deterministic: same problem, seed and ``iterations``, same
      result, in any process, at any machine speed or load, with any
      ``workers``. ``time_limit`` is then ignored and no decision reads the
      clock: the
      backends share ``iterations`` by ``shares`` (PyVRP: iterations of its
      search; OR-Tools: solutions; VROOM, which has no iteration count,
      runs its whole search on one thread with no timeout, at
      ``vroom_exploration`` or, when that is ``None``, the level its share
      buys, :func:`routing.backends.vroom_backend.iteration_level`); every
      part of a decomposed problem gets all ``iterations`` for its own
      search; independent searches are all waited for. See
      ``routing/README.md``, "Reproducible solves".
    * ``workers``: processes for the decomposition (parts solved in parallel);
      a problem solved in one piece lets VROOM search with this many threads
      instead (on Jessr's days VROOM does most of the work and is still
      improving when its time ends: ``engine/solve.py``, ``BENCHMARKS.md``).
    * ``searches``: independent searches run at once on a problem solved in
      one piece, this process's and the others on the executor passed to
      :func:`routing.solve` (without one, this process's only), each with
      its own seed (the caller's, then +1, ...) and ``workers // searches``
      VROOM threads; the best is kept (:mod:`routing.multistart`). 1, the
      default, searches in this process only. The benchmark runner uses 2, one per core: where a
      search ends is a lottery on the tight benchmark families, and a second
      core buys a second full-length draw.
    * ``vroom_exploration``: VROOM's exploration level, 1-5; 5 (the default,
      VROOM's own) is its most thorough. ``None`` takes the most thorough
      level whose whole search is predicted to fit in VROOM's time
      (:func:`routing.backends.vroom_backend.exploration_level`, calibrated
      on Jessr days, where VROOM is the main search): level 2 on a
      1,200-shipment day at 17 s, where level 5 cut every search short and
      delivered 3-7 % less. Jessr's days use ``None``
      (:func:`engine.solve.day_routing_params`); the benchmark families keep
      5, where VROOM only builds a warm start.
    * ``decompose_above``: solve in geographic parts when the problem has more
      shipments than this; ``part_size``: target shipments per part.
    * ``min_parts``: the fewest parts a geographically decomposed problem
      (:mod:`routing.regional`) is cut into, even when ``part_size`` would
      give fewer (never more parts than vehicles). A caller with many workers
      asks for more, smaller parts through it: the part count depends on the
      parameters only, never on the executor, so an ``iterations``-bounded
      solve gives the same plan on any executor. Default 1.
    * ``geographic_above``: a coordinate-backed problem
      (:class:`routing.problem.GeoRoutingProblem`) with more locations than
      this is never turned into one dense matrix (3,000 locations is a 72 MB
      matrix, plus the integer copies per speed class); it is solved by
      :mod:`routing.regional` on per-part matrices instead.
    * ``patient_fleet``: the fleet phase's ejection search never gives up a
      route-count target on a long run (>= 15 s) of a model with pairs; it
      keeps at it until its share is spent
      (:data:`routing.backends.ejection.PATIENT_SECONDS`); on a model of
      clients only, absence rounds take up the target the ejection search
      gave up (:mod:`routing.backends.pyvrp_fleet`). Off by default;
      with ``searches >= 2`` every second search is patient
      (:mod:`routing.multistart`): one bets on vehicles, one on distance.
    * ``replay``: the ``record`` of an earlier time-limited
      :class:`~routing.result.RoutingResult` of the same problem and seed.
      The solve then re-does exactly the work recorded there (PyVRP's
      iterations, the repair's checks, the parts and searches that
      answered), reads no clock and gives the recorded run's plan;
      ``time_limit`` is ignored. Not with ``iterations``, which replays by
      itself (:mod:`routing.record`, ``routing/README.md``, "Reproducible
      solves").
    """

    time_limit: float = 10.0
    backends: tuple[str, ...] = ("vroom", "pyvrp", "ortools")
    shares: tuple[float, ...] = (0.05, 0.95, 0.0)
    max_iterations: int | None = None
    iterations: int | None = None
    workers: int = 2
    searches: int = 1
    vroom_exploration: int | None = 5
    decompose_above: int = 1500
    part_size: int = 600
    min_parts: int = 1
    geographic_above: int = 3000
    patient_fleet: bool = False
    replay: Mapping[str, Any] | None = field(default=None, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise ValueError(f"expected time_limit > 0 seconds, got {self.time_limit}")
        if not self.backends:
            raise ValueError("expected at least one backend")
        for b in self.backends:
            if b not in BACKENDS:
                raise ValueError(f"expected backends among {BACKENDS}, got {b!r}")
        if len(set(self.backends)) != len(self.backends):
            raise ValueError(f"expected distinct backends, got {self.backends}")
        if len(self.shares) != len(self.backends):
            object.__setattr__(self, "shares", _default_shares(self.backends))
        if any(not (s >= 0 and math.isfinite(s)) for s in self.shares) or not any(
            s > 0 for s in self.shares
        ):
            raise ValueError(f"expected shares >= 0, at least one > 0, got {self.shares}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"expected max_iterations >= 1 or None, got {self.max_iterations}")
        if self.iterations is not None and (
            isinstance(self.iterations, bool)
            or not isinstance(self.iterations, int)
            or self.iterations < 1
        ):
            raise ValueError(f"expected iterations >= 1 or None, got {self.iterations!r}")
        if self.workers < 1:
            raise ValueError(f"expected workers >= 1, got {self.workers}")
        if self.replay is not None:
            if self.iterations is not None:
                raise ValueError("expected replay or iterations, not both")
            from routing.record import check_version

            check_version(self.replay)
        if self.searches < 1:
            raise ValueError(f"expected searches >= 1, got {self.searches}")
        if self.vroom_exploration is not None and self.vroom_exploration not in range(1, 6):
            raise ValueError(
                f"expected vroom_exploration from 1 to 5 or None, got {self.vroom_exploration}"
            )
        if isinstance(self.min_parts, bool) or not isinstance(self.min_parts, int):
            raise ValueError(f"expected min_parts an int >= 1, got {self.min_parts!r}")
        if self.min_parts < 1:
            raise ValueError(f"expected min_parts >= 1, got {self.min_parts}")
        if self.decompose_above < 1 or self.part_size < 1 or self.geographic_above < 1:
            raise ValueError(
                "expected decompose_above >= 1, part_size >= 1 and geographic_above >= 1"
            )


def _default_shares(backends: tuple[str, ...]) -> tuple[float, ...]:
    weight = {"vroom": 0.05, "pyvrp": 0.95, "ortools": 0.0}
    if not any(weight[b] > 0 for b in backends):
        return tuple(1.0 for _ in backends)
    return tuple(weight[b] for b in backends)
