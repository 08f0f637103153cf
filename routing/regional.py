"""National scale: solve a coordinate-backed problem without one dense matrix.

A national day has ~35,000 shipments at ~36,000 locations: its dense matrix
alone would be ~10 GB, its integer copies several times that. Here the
problem keeps coordinates (:class:`GeoRoutingProblem`), and only small
matrices are ever built:

1. *Alone feasibility* (who could carry what, drop reasons) is computed from
   coordinates in vehicle blocks, O(block × shipments) memory.
2. *Partition*: recursive bisection of the shipments (midpoint of pickup and
   delivery) along the wider axis, cut at the quantile that gives each side
   its share of parts, so parts hold ~``part_size`` shipments each and solve
   in about the same time (waves of ``workers`` parts then fill the budget
   evenly). Vehicles are cut along the same axis: each side gets the homes
   that lie there, clamped to between half and twice its share of the work,
   so no part is starved of volunteers or gets all of them.
3. *Parts* are small picklable :class:`GeoRoutingProblem` values (local
   re-indexing); :func:`solve_part` builds the part's matrix and runs the
   portfolio, in a process pool (they could be Celery tasks as they are).
   Parts are submitted as workers free up, each with the time left divided
   by the waves left, so an overrun early shrinks later parts instead of the
   deadline slipping.
4. *Repair*, within leftover time: (a) shipments dropped by their part and
   still feasible for a vehicle that stayed unused are partitioned again
   with those vehicles and solved; (b) what is still left is offered by
   greedy insertion (exact evaluator) to the used routes nearby, chunk by
   chunk on small local matrices.
5. Every final route is re-checked by the float evaluator on a local problem
   (:func:`routing.evaluate.check_route`); an offending shipment is dropped
   until the route is valid. Results use the caller's location indices.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace

import numpy as np

from routing.backends import Routes
from routing.evaluate import check_route
from routing.feasibility import alone_feasibility, alone_feasibility_by
from routing.insertion import insert_greedy, insertion_order
from routing.params import SolveParams
from routing.portfolio import REPAIR_CHECKS, VALUE_DIGITS, Steps, to_routes
from routing.problem import EARTH_RADIUS_KM, RoutingProblem, Shipment, Vehicle, validate_records
from routing.result import Dropped, Metrics, Reason, Route, RoutingResult, Status

log = logging.getLogger(__name__)

# Phases end at these fractions of the time limit (from the call's start).
# Round-1 parts get the bulk; what is left after the greedy repair is for
# the final float re-check and result assembly (~2-4 s at national scale).
PARTS_END = 0.75
UNUSED_END = 0.84
GREEDY_END = 0.92
PART_OVERHEAD = 0.3  # s per part outside its solve: matrix build, pickling, IPC
MIN_PART_SECONDS = 0.4  # below this a part is not started (its shipments stay for repair)
WARM_UP_SECONDS = 0.2  # each worker's first task lingers so that all workers start
FEAS_BLOCK = 64  # vehicles per block of the alone-feasibility computation
GREEDY_CHUNK = 120  # leftover shipments per greedy-repair chunk
GREEDY_USED = 8  # nearest used routes offered to each leftover shipment
GREEDY_IDLE = 2  # nearest unused vehicles offered to each leftover shipment
UNBOUNDED = 10**9  # decompose_above/geographic_above inside a part: never split again
START_METHOD = "fork"


@dataclass(frozen=True)
class GeoRoutingProblem:
    """A pickup-and-delivery problem on WGS84 points instead of a matrix.

    Same vehicles, shipments and location-index semantics as
    :class:`~routing.problem.RoutingProblem`; the distance between locations
    ``i`` and ``j`` is ``road_factor`` × great-circle km, computed on demand
    with exactly the formula of :func:`routing.problem.great_circle_km`, so
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
        la, lo = np.radians(self.lat), np.radians(self.lon)
        a, b = np.asarray(a), np.asarray(b)
        la_i, la_j = la[a], la[b]
        dlon = lo[b] - lo[a]
        cos_i, cos_j, sin_i, sin_j = np.cos(la_i), np.cos(la_j), np.sin(la_i), np.sin(la_j)
        cos_d, sin_d = np.cos(dlon), np.sin(dlon)
        # Same expression, same order as great_circle_km: equal floats to the bit.
        y = np.sqrt((cos_j * sin_d) ** 2 + (cos_i * sin_j - sin_i * cos_j * cos_d) ** 2)
        x = sin_i * sin_j + cos_i * cos_j * cos_d
        d = EARTH_RADIUS_KM * np.arctan2(y, x)
        d = np.where(a == b, 0.0, d)
        return d * self.road_factor

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


def geo_alone_feasibility(problem: GeoRoutingProblem) -> tuple[np.ndarray, list[str | None]]:
    """:func:`routing.feasibility.alone_feasibility` from coordinates.

    Same rules and reasons (home → pickup → delivery → home on one vehicle),
    distances computed per vehicle block instead of read from a matrix, so a
    national day needs O(block × shipments) memory, not O(locations²).
    """
    return alone_feasibility_by(problem, problem.road_km, FEAS_BLOCK)


def planar_km(problem: GeoRoutingProblem, locs: np.ndarray) -> np.ndarray:
    """(n, 2) planar km of locations (equirectangular at the mean latitude).

    Only for partitioning: a country-sized area is near enough to flat for
    deciding which side of a cut a point is on.
    """
    lat, lon = problem.lat[locs], problem.lon[locs]
    k = math.pi / 180 * EARTH_RADIUS_KM
    mid = float(np.mean(problem.lat)) if problem.num_locations else 0.0
    return np.column_stack([lon * k * math.cos(math.radians(mid)), lat * k])


def bisect(
    ship_xy: np.ndarray, veh_xy: np.ndarray, parts: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split points into ``parts`` regions: [(shipment rows, vehicle rows)].

    Recursive bisection along the wider axis of the shipment points, cut so
    each side gets shipments in proportion to its number of parts (parts are
    balanced: equal solve times per wave). Vehicles are cut along the same
    axis: each side keeps the homes on its side, clamped to between half and
    twice its share of the shipments and to at least one vehicle per part
    (when there are enough vehicles). Ties break by row: deterministic.
    """
    out: list[tuple[np.ndarray, np.ndarray]] = []

    def rec(s_rows: np.ndarray, v_rows: np.ndarray, k: int) -> None:
        if k <= 1 or len(s_rows) < 2:
            out.append((s_rows, v_rows))
            return
        k_left = k // 2
        pts = ship_xy[s_rows]
        axis = int(np.argmax(np.ptp(pts, axis=0)))
        order = np.lexsort((s_rows, pts[:, axis]))
        n_left = min(max(round(len(s_rows) * k_left / k), 1), len(s_rows) - 1)
        left_s, right_s = s_rows[order[:n_left]], s_rows[order[n_left:]]
        cut = (pts[order[n_left - 1], axis] + pts[order[n_left], axis]) / 2
        nv = len(v_rows)
        v_order = np.lexsort((v_rows, veh_xy[v_rows, axis])) if nv else np.array([], dtype=int)
        share = n_left / len(s_rows)
        geo = int(np.sum(veh_xy[v_rows, axis] <= cut)) if nv else 0
        lo = max(share / 2, 1 - 2 * (1 - share))
        hi = min(2 * share, 1 - (1 - share) / 2)
        nv_left = round(min(max(geo / nv, lo), hi) * nv) if nv else 0
        if nv >= k:
            nv_left = min(max(nv_left, k_left), nv - (k - k_left))
        elif nv >= 2:
            nv_left = min(max(nv_left, 1), nv - 1)
        rec(left_s, v_rows[v_order[:nv_left]], k_left)
        rec(right_s, v_rows[v_order[nv_left:]], k - k_left)

    rec(np.arange(len(ship_xy)), np.arange(len(veh_xy)), max(1, parts))
    return out


def solve_part(
    part_problem: GeoRoutingProblem | RoutingProblem,
    params: SolveParams,
    seed: int,
    initial: Steps | None = None,
) -> RoutingResult:
    """Solve one part in full (its own matrix, the backend portfolio).

    Top-level and fed only picklable values, so it runs in a worker process
    (or, later, as a Celery task). Never decomposes again.
    """
    from routing.solver import solve

    problem = (
        part_problem.to_problem() if isinstance(part_problem, GeoRoutingProblem) else part_problem
    )
    # workers=1, searches=1: the parts already run one per worker process; a
    # part's backends must not start threads or searches of their own on the
    # same cores.
    flat = replace(
        params, decompose_above=UNBOUNDED, geographic_above=UNBOUNDED, workers=1, searches=1
    )
    return solve(problem, flat, seed, initial)


def _warm_up(_: int) -> None:
    # Runs once per worker: import the backends now, not inside the first
    # part's budget; lingering keeps this worker busy so the next warm-up
    # task goes to another one.
    import routing.backends.ortools_backend
    import routing.backends.pyvrp_backend
    import routing.backends.vroom_backend  # noqa: F401

    time.sleep(WARM_UP_SECONDS)


def make_pool(workers: int) -> ProcessPoolExecutor | None:
    """A warm pool of ``workers`` processes (``None``: solve in-process)."""
    if workers <= 1:
        return None  # no start-up cost (tests, single core)
    # fork, not spawn/forkserver: those re-run the caller's __main__ in every
    # worker, which breaks unguarded scripts. The pool is made before the big
    # arrays exist, so the children inherit a small image.
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(START_METHOD)
    )
    list(pool.map(_warm_up, range(workers)))
    return pool


def run_parts(
    pool: ProcessPoolExecutor | None,
    parts: Sequence[GeoRoutingProblem | RoutingProblem],
    params: SolveParams,
    seed: int,
    deadline: float,
    initials: Sequence[Steps | None] | None = None,
) -> list[RoutingResult | None]:
    """Solve ``parts`` (in ``pool``, else in-process) so all end by ``deadline``.

    A part is submitted when a worker frees up, with the time left divided by
    the waves left (minus the per-part overhead): balanced parts share the
    time evenly, and an overrun shrinks the parts after it rather than
    pushing the deadline. Parts that no longer fit are not started
    (``None``); a part that fails is logged and counts as ``None``. In
    iteration mode (``params.iterations``) every part runs with the same
    parameters and no deadline: its result does not depend on the worker
    that ran it or on when the others finished.
    """
    slots = params.workers if pool is not None else 1
    results: list[RoutingResult | None] = [None] * len(parts)
    pending = list(range(len(parts)))
    running: dict[Future[RoutingResult], int] = {}
    while pending or running:
        while pending and len(running) < slots:
            part_params = params  # iteration mode: every part gets all the iterations
            if params.iterations is None:
                waves = math.ceil(len(pending) / slots)
                budget = (deadline - time.monotonic()) / waves - PART_OVERHEAD
                if budget < MIN_PART_SECONDS:
                    log.info("regional: %d parts not started (time)", len(pending))
                    pending.clear()
                    break
                part_params = replace(params, time_limit=budget)
            i = pending.pop(0)
            warm = initials[i] if initials else None
            if pool is None:
                try:
                    results[i] = solve_part(parts[i], part_params, seed, warm)
                except Exception:  # one failing part must not sink the day
                    log.exception("regional: part %d failed", i)
            else:
                running[pool.submit(solve_part, parts[i], part_params, seed, warm)] = i
        if running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                i = running.pop(fut)
                try:
                    results[i] = fut.result()
                except Exception:
                    log.exception("regional: part %d failed", i)
    return results


def _merge(
    problem: GeoRoutingProblem,
    routes: Routes,
    results: Sequence[RoutingResult | None],
    vid: dict[str, int],
) -> None:
    """Add part results (by id) to the global ``routes``, in part order."""
    for res in results:
        if res is None:
            continue
        for route in res.routes:
            nodes: list[int] = []
            for stop in route.stops:
                # Node order of the evaluator: deliveries before pickups at a stop.
                nodes += [2 * problem.shipment_index(s) + 1 for s in stop.deliveries]
                nodes += [2 * problem.shipment_index(s) for s in stop.pickups]
            if nodes:
                routes[vid[route.vehicle]] = nodes


def _solve_round(
    pool: ProcessPoolExecutor | None,
    problem: GeoRoutingProblem,
    ships: np.ndarray,
    vehs: np.ndarray,
    params: SolveParams,
    seed: int,
    deadline: float,
    initial: Steps | None = None,
) -> tuple[list[RoutingResult | None], int]:
    """Partition ``ships`` with ``vehs`` and solve the parts; (results, parts).

    Each part gets, as warm start, the steps of ``initial`` of its own
    vehicles on its own shipments.
    """
    if ships.size == 0 or vehs.size == 0:
        return [], 0
    count = min(math.ceil(ships.size / params.part_size), vehs.size)
    ship_loc = np.array([problem.shipments[k].first_location for k in ships])
    ship_del = np.array([problem.shipments[k].delivery for k in ships])
    ship_xy = (planar_km(problem, ship_loc) + planar_km(problem, ship_del)) / 2
    veh_xy = planar_km(problem, np.array([problem.vehicles[v].start for v in vehs]))
    regions = bisect(ship_xy, veh_xy, count)
    parts = [problem.part(ships[s], vehs[v])[0] for s, v in regions if s.size and v.size]
    initials: list[Steps | None] | None = None
    if initial:
        initials = []
        for part in parts:
            mine = {s.id for s in part.shipments}
            share = {
                v.id: [step for step in initial[v.id] if step[0] in mine]
                for v in part.vehicles
                if v.id in initial
            }
            initials.append({v: steps for v, steps in share.items() if steps} or None)
    return run_parts(pool, parts, params, seed, deadline, initials), len(parts)


def _greedy_repair(
    problem: GeoRoutingProblem,
    routes: Routes,
    left: np.ndarray,
    feasible: np.ndarray,
    deadline: float,
    max_checks: int | None = None,
) -> None:
    """Insert ``left`` shipments into nearby routes, chunk by chunk, in place.

    Each chunk (spatially compact, ~``GREEDY_CHUNK`` shipments) gets a local
    problem with its shipments, the nearest feasible used routes and a few
    unused vehicles, and the exact greedy insertion of
    :mod:`routing.insertion`; local sub-matrices equal the global distances,
    so inserted routes are valid as they stand. Each chunk stops at
    ``deadline`` or after ``max_checks`` evaluator calls (iteration mode).
    """
    if left.size == 0:
        return
    ships = problem.shipments
    home = np.array([v.start for v in problem.vehicles])
    mid = (
        planar_km(problem, np.array([ships[k].first_location for k in left]))
        + planar_km(problem, np.array([ships[k].delivery for k in left]))
    ) / 2
    chunks = bisect(mid, np.zeros((0, 2)), math.ceil(left.size / GREEDY_CHUNK))
    for rows, _ in chunks:
        if time.monotonic() > deadline:
            break
        chunk = left[rows]
        cand: set[int] = set()
        for k in chunk:
            vs = np.flatnonzero(feasible[:, k])
            if vs.size == 0:
                continue
            km = problem.road_km(home[vs], np.full(vs.size, ships[k].first_location))
            used = [int(v) for v in vs[np.argsort(km, kind="stable")] if routes.get(int(v))]
            idle = [int(v) for v in vs[np.argsort(km, kind="stable")] if not routes.get(int(v))]
            cand.update(used[:GREEDY_USED])
            cand.update(idle[:GREEDY_IDLE])
        if not cand:
            continue
        vehs = sorted(cand)
        carried = [c >> 1 for v in vehs for c in routes.get(v, []) if c & 1]
        local_ships = [*carried, *(int(k) for k in chunk)]
        part, _ = problem.part(local_ships, vehs)
        sub = part.to_problem()
        pos = {k: i for i, k in enumerate(local_ships)}
        local_routes: Routes = {
            i: [2 * pos[c >> 1] + (c & 1) for c in routes[v]]
            for i, v in enumerate(vehs)
            if routes.get(v)
        }
        local_feas, _ = alone_feasibility(sub)
        todo = insertion_order(sub, range(len(carried), len(local_ships)))
        if insert_greedy(sub, local_routes, todo, local_feas, deadline, max_checks):
            for i, nodes in local_routes.items():
                routes[vehs[i]] = [2 * local_ships[c >> 1] + (c & 1) for c in nodes]


def _final_routes(problem: GeoRoutingProblem, routes: Routes) -> list[Route]:
    """Re-check every route in float on its own local problem; fix or drop.

    An invalid route loses its culprit shipment until valid (as the
    portfolio's repair does); stop locations are mapped back to global.
    """
    out: list[Route] = []
    for v in sorted(routes):
        nodes = routes[v]
        if not nodes:
            continue
        ks = list(dict.fromkeys(c >> 1 for c in nodes))
        part, locs = problem.part(ks, [v])
        sub = part.to_problem()
        pos = {k: i for i, k in enumerate(ks)}
        local = [2 * pos[c >> 1] + (c & 1) for c in nodes]
        while local:
            chk = check_route(sub, 0, local)
            if chk.feasible:
                stops = tuple(replace(s, location=int(locs[s.location])) for s in chk.stops)
                out.append(Route(problem.vehicles[v].id, stops, chk.distance, chk.duration))
                break
            log.warning(
                "regional: dropping %s from %s: %s", chk.culprit, part.vehicles[0].id, chk.error
            )
            local = [c for c in local if c >> 1 != chk.culprit]
    return out


def _value(problem: GeoRoutingProblem, routes: Routes) -> float:
    ships = problem.shipments
    return sum(ships[c >> 1].value for nodes in routes.values() for c in nodes if c & 1)


def solve_geographic(
    problem: GeoRoutingProblem,
    params: SolveParams,
    seed: int = 0,
    initial: Steps | None = None,
) -> RoutingResult:
    """Route a coordinate-backed problem by geographic parts (module docstring).

    Never builds a matrix larger than one part's. Finishes within
    ``params.time_limit`` seconds (phases end at fixed fractions of it);
    with ``params.iterations`` set, every phase runs to its end instead.
    With a warm start ``initial`` (see :func:`routing.solve`), each part
    starts from its share of it, and the whole ``initial`` (float-checked)
    is returned instead when it delivers more than the assembled parts.
    """
    started = time.monotonic()
    limit = params.time_limit

    def at(fraction: float) -> float:
        # Iteration mode: no phase ends by the clock.
        return math.inf if params.iterations is not None else started + fraction * limit

    nv = len(problem.vehicles)
    # Workers start first (warm, before the feasibility matrix exists), so
    # the parts' budgets below are computed from the time really left.
    pool = make_pool(params.workers) if problem.shipments and nv else None
    try:
        feasible, reasons = geo_alone_feasibility(problem)
        active = np.array([k for k, r in enumerate(reasons) if r is None], dtype=np.int64)
        vid = {v.id: i for i, v in enumerate(problem.vehicles)}
        routes: Routes = {}
        timed_out: set[int] = set()
        parts1 = parts2 = 0
        if active.size and nv:
            results, parts1 = _solve_round(
                pool, problem, active, np.arange(nv), params, seed, at(PARTS_END), initial
            )
            _merge(problem, routes, results, vid)
            if any(r is None for r in results):
                served = {c >> 1 for n in routes.values() for c in n}
                timed_out = {int(k) for k in active if int(k) not in served}
            value1 = _value(problem, routes)
            # Repair (a): leftovers that an unused vehicle could carry, solved again.
            served = {c >> 1 for n in routes.values() for c in n}
            unused = np.array([v for v in range(nv) if v not in routes], dtype=np.int64)
            left = np.array([k for k in active if k not in served], dtype=np.int64)
            if unused.size and left.size:
                left2 = left[feasible[np.ix_(unused, left)].any(axis=0)]
                results, parts2 = _solve_round(
                    pool, problem, left2, unused, params, seed, at(UNUSED_END)
                )
                _merge(problem, routes, results, vid)
            value2 = _value(problem, routes)
            # Repair (b): greedy insertion into nearby routes.
            served = {c >> 1 for n in routes.values() for c in n}
            left = np.array([k for k in active if k not in served], dtype=np.int64)
            checks = None if params.iterations is None else REPAIR_CHECKS
            _greedy_repair(problem, routes, left, feasible, at(GREEDY_END), checks)
            value3 = _value(problem, routes)
            log.info(
                "regional: %d parts: value %.1f; unused-vehicle round (%d parts) +%.1f; "
                "greedy +%.1f; %.1f s",
                parts1,
                value1,
                parts2,
                value2 - value1,
                value3 - value2,
                time.monotonic() - started,
            )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    final = _final_routes(problem, routes)
    if initial:
        warm = _final_routes(problem, to_routes(problem, initial))

        def key(rs: list[Route]) -> tuple[float, float]:
            ids = {sid for r in rs for s in r.stops for sid in s.deliveries}
            # fsum: the set's order (string hashing) must not change the sum.
            value = math.fsum(problem.shipments[problem.shipment_index(i)].value for i in ids)
            return (round(value, VALUE_DIGITS), -sum(r.distance for r in rs))

        if key(warm) > key(final):
            log.info("regional: the warm start beats the parts; kept")
            final = warm
    served_ids = {sid for r in final for s in r.stops for sid in s.deliveries}
    ships = problem.shipments
    dropped = []
    for k, s in enumerate(ships):
        if s.id in served_ids:
            continue
        if reasons[k] is not None:
            dropped.append(Dropped(s.id, reasons[k]))
        elif k in timed_out:
            dropped.append(Dropped(s.id, Reason.TIME_LIMIT.value))
        else:
            dropped.append(Dropped(s.id, Reason.NO_VOLUNTEER_CAPACITY.value))
    used = [problem.vehicles[vid[r.vehicle]] for r in final]
    metrics = Metrics(
        delivered_value=round(sum(s.value for s in ships if s.id in served_ids), VALUE_DIGITS),
        distance=sum(r.distance for r in final),
        vehicles_used=len(final),
        fixed_cost=sum(v.fixed_cost for v in used),
        served=len(served_ids),
        dropped=len(dropped),
        backend=f"regional({parts1}+{parts2} parts)",
        seconds=time.monotonic() - started,
    )
    if not ships or not problem.vehicles:
        status = Status.EMPTY
    elif any(s.required and s.id not in served_ids for s in ships):
        status = Status.NO_SOLUTION
    elif not served_ids and all(r is not None for r in reasons):
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE
    return RoutingResult(status, tuple(final), tuple(dropped), metrics)
