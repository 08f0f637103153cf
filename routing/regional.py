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
   evenly); ``ceil(shipments / part_size)`` parts, at least
   ``min_parts`` (a caller with many workers asks for more, smaller parts),
   at most one per vehicle: never a function of the executor, so an
   iteration-bounded plan is the same on any. Each region's vehicle *count*
   is cut along the same axis: the homes that lie there, clamped to between
   half and twice its share of the work, so no part is starved of
   volunteers or gets all of them. *Which* vehicles is decided by reach
   (:func:`cut_by_reach`): a home beside the cut says little about what a
   volunteer can carry (a small car cannot take the heavy lots next door,
   a late shift misses the near windows), and a vehicle in a part where it
   can carry nothing is wasted until the repair. Each vehicle's reach in a
   region is the value of the region's shipments it could carry alone,
   discounted by the distance from its home; vehicles are handed out
   greedily, the one that would lose most by going elsewhere first, and
   those that reach nothing fill the quotas left by home.
3. *Parts* are small picklable :class:`GeoRoutingProblem` values (local
   re-indexing); :func:`routing.parallel.solve_part` builds the part's
   matrix and runs the portfolio, on the caller's executor (they could be
   Celery tasks as they are) or, without one, in this process.
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
import time
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from matching.geo import EARTH_RADIUS_KM
from routing.backends import Routes
from routing.evaluate import check_route
from routing.feasibility import alone_feasibility, alone_feasibility_by
from routing.insertion import insert_greedy, insertion_order
from routing.parallel import part_routes, run_parts
from routing.params import SolveParams
from routing.portfolio import REPAIR_CHECKS, Steps, to_routes
from routing.problem import GeoRoutingProblem
from routing.record import expect, new
from routing.result import VALUE_DIGITS, Route, RoutingResult, build_result

log = logging.getLogger(__name__)

# Phases end at these fractions of the time limit (from the call's start).
# Round-1 parts get the bulk; what is left after the greedy repair is for
# the final float re-check and result assembly (~2-4 s at national scale).
PARTS_END = 0.75
UNUSED_END = 0.84
GREEDY_END = 0.92
FEAS_BLOCK = 64  # vehicles per block of the alone-feasibility computation
GREEDY_CHUNK = 120  # leftover shipments per greedy-repair chunk
GREEDY_USED = 8  # nearest used routes offered to each leftover shipment
GREEDY_IDLE = 2  # nearest unused vehicles offered to each leftover shipment
REACH_KM = 10.0  # a shipment this far from a home counts half in its reach


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


def midpoints_km(problem: GeoRoutingProblem, ships: np.ndarray) -> np.ndarray:
    """(n, 2) planar km of the midpoint of each shipment's first stop and delivery:
    where a shipment is, for cutting the day into regions."""
    first = np.array([problem.shipments[k].first_location for k in ships], dtype=np.int64)
    last = np.array([problem.shipments[k].delivery for k in ships], dtype=np.int64)
    return (planar_km(problem, first) + planar_km(problem, last)) / 2


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


def region_reach(
    problem: GeoRoutingProblem,
    feasible: np.ndarray,
    vehs: np.ndarray,
    ships: np.ndarray,
    regions: list[np.ndarray],
) -> np.ndarray:
    """(vehicles × regions) value each vehicle could carry alone per region.

    ``reach[i, r]`` sums, over the shipments ``ships[rows]`` (``rows =
    regions[r]``) that vehicle ``vehs[i]`` can carry alone (``feasible``:
    vehicles × shipments of the whole problem), their value discounted by
    the road km from the vehicle's home to their first stop:
    ``value / (1 + km / REACH_KM)``. Feasible is not enough: a long shift
    makes a far region feasible, but a vehicle there spends its day
    driving. Computed per block of vehicles, distances for feasible pairs
    only, so beyond ``feasible`` only O(block × shipments + vehicles ×
    regions) memory is used.
    """
    sizes = np.array([len(rows) for rows in regions], dtype=np.int64)
    reach = np.zeros((len(vehs), len(regions)))
    if not len(vehs) or not sizes.sum():
        return reach
    cols = ships[np.concatenate(regions)]
    value = np.array([problem.shipments[k].value for k in cols])
    first = np.array([problem.shipments[k].first_location for k in cols])
    home = np.array([problem.vehicles[v].start for v in vehs])
    region_of = np.repeat(np.arange(len(regions)), sizes)
    nr = len(regions)
    for b in range(0, len(vehs), FEAS_BLOCK):
        blk = feasible[vehs[b : b + FEAS_BLOCK, None], cols[None, :]]
        # Distances only for the feasible pairs: a vehicle reaches a small
        # part of a national day, and the great-circle km are what cost.
        vi, cj = np.nonzero(blk)
        km = problem.road_km(home[b + vi], first[cj])
        # bincount adds in pair order: the same sums on any machine.
        reach[b : b + FEAS_BLOCK] = np.bincount(
            vi * nr + region_of[cj],
            weights=value[cj] / (1 + km / REACH_KM),
            minlength=len(blk) * nr,
        ).reshape(len(blk), nr)
    return reach


def assign_by_reach(
    reach: np.ndarray, quotas: np.ndarray, veh_xy: np.ndarray, centroids: np.ndarray
) -> np.ndarray:
    """Region of each vehicle: who can serve which region, within ``quotas``.

    Greedy over (vehicle, region) pairs with some reach, most urgent first:
    by the vehicle's *regret* (its reach there minus its best reach
    elsewhere; a vehicle that can serve only one region comes before one that
    could serve two about as well), then by reach, then by vehicle and region
    index (deterministic). A pair is taken while the vehicle is free and the
    region has quota left. Vehicles left over (no reach anywhere, or their
    regions full) fill the remaining quotas by home: the nearest region
    centroid with quota left. ``quotas`` must sum to at least the number of
    vehicles. O(vehicles × regions) time and memory.
    """
    nv, nr = reach.shape
    region = np.full(nv, -1, dtype=np.int64)
    left = np.array(quotas, dtype=np.int64)
    if nv == 0 or nr == 0:
        return region
    if nr > 1:
        top = np.sort(reach, axis=1)
        best = np.argmax(reach, axis=1)
        other = np.where(
            np.arange(nr)[None, :] == best[:, None], top[:, -2, None], top[:, -1, None]
        )
    else:
        other = np.zeros_like(reach)
    vv, rr = np.nonzero(reach > 0)
    regret = reach[vv, rr] - other[vv, rr]
    order = np.lexsort((rr, vv, -reach[vv, rr], -regret))
    free = nv
    for v, r in zip(vv[order].tolist(), rr[order].tolist(), strict=True):
        if region[v] < 0 and left[r] > 0:
            region[v] = r
            left[r] -= 1
            free -= 1
            if free == 0:
                break
    for v in np.flatnonzero(region < 0).tolist():
        open_ = np.flatnonzero(left > 0)
        if open_.size == 0:
            break
        d = np.sum((centroids[open_] - veh_xy[v]) ** 2, axis=1)
        r = int(open_[int(np.argmin(d))])
        region[v] = r
        left[r] -= 1
    return region


def cut_by_reach(
    problem: GeoRoutingProblem,
    feasible: np.ndarray,
    ships: np.ndarray,
    vehs: np.ndarray,
    count: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut ``ships`` into ``count`` regions and give each its vehicles by reach.

    [(shipment rows, vehicle rows)], rows into ``ships`` and ``vehs``.
    Shipments: :func:`bisect` of their midpoints. Each region's vehicle
    count is the one :func:`bisect` gives by homes (its share of the
    shipments, between half and twice it, at least one per part when there
    are enough vehicles); which vehicles is then :func:`assign_by_reach` on
    the value of the region's shipments each could carry alone, discounted
    by distance (:func:`region_reach`).
    """
    ship_xy = midpoints_km(problem, ships)
    veh_xy = planar_km(problem, np.array([problem.vehicles[v].start for v in vehs]))
    regions = bisect(ship_xy, veh_xy, count)
    quotas = np.array([len(v) for _, v in regions], dtype=np.int64)
    reach = region_reach(problem, feasible, vehs, ships, [s for s, _ in regions])
    centroids = np.array(
        [ship_xy[s].mean(axis=0) if s.size else (np.inf, np.inf) for s, _ in regions]
    )
    region = assign_by_reach(reach, quotas, veh_xy, centroids)
    return [(s, np.flatnonzero(region == r)) for r, (s, _) in enumerate(regions)]


def part_count(ships: int, vehicles: int, params: SolveParams) -> int:
    """Parts of a round: ``ceil(ships / part_size)``, at least ``min_parts``,
    at most one per vehicle; never depends on the executor (reproducible)."""
    return min(max(math.ceil(ships / params.part_size), params.min_parts), vehicles)


def _solve_round(
    executor: Executor | None,
    problem: GeoRoutingProblem,
    ships: np.ndarray,
    vehs: np.ndarray,
    feasible: np.ndarray,
    params: SolveParams,
    seed: int,
    deadline: float,
    initial: Steps | None = None,
    record: list[dict] | None = None,
    replay: list[dict] | None = None,
) -> tuple[list[RoutingResult | None], int]:
    """Partition ``ships`` with ``vehs`` and solve the parts; (results, parts).

    Vehicles go to the parts by reach (:func:`cut_by_reach`, ``feasible``:
    the whole problem's alone feasibility). Each part gets, as warm start,
    the steps of ``initial`` of its own vehicles on its own shipments.
    """
    if ships.size == 0 or vehs.size == 0:
        return [], 0
    count = part_count(ships.size, vehs.size, params)
    regions = cut_by_reach(problem, feasible, ships, vehs, count)
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
    results = run_parts(executor, parts, params, seed, deadline, initials, record, replay)
    return results, len(parts)


def _greedy_repair(
    problem: GeoRoutingProblem,
    routes: Routes,
    left: np.ndarray,
    feasible: np.ndarray,
    deadline: float,
    max_checks: int | None = None,
    record: list[int] | None = None,
    replay: list[int] | None = None,
) -> None:
    """Insert ``left`` shipments into nearby routes, chunk by chunk, in place.

    Each chunk (spatially compact, ~``GREEDY_CHUNK`` shipments) gets a local
    problem with its shipments, the nearest feasible used routes and a few
    unused vehicles, and the exact greedy insertion of
    :mod:`routing.insertion`; local sub-matrices equal the global distances,
    so inserted routes are valid as they stand. Each chunk stops at
    ``deadline`` or after ``max_checks`` evaluator calls (iteration mode).
    ``record`` (time mode) gets the evaluator calls of each chunk reached;
    ``replay`` (such a list) repeats them: those chunks, those calls.
    """
    if left.size == 0:
        return
    ships = problem.shipments
    home = np.array([v.start for v in problem.vehicles])
    mid = midpoints_km(problem, left)
    chunks = bisect(mid, np.zeros((0, 2)), math.ceil(left.size / GREEDY_CHUNK))
    for j, (rows, _) in enumerate(chunks):
        if replay is not None:
            if j >= len(replay):
                break
            max_checks = int(replay[j])
        elif time.monotonic() > deadline:
            break
        tally: list[int] = []
        if record is not None:
            record.append(0)
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
        inserted = insert_greedy(sub, local_routes, todo, local_feas, deadline, max_checks, tally)
        if record is not None:
            record[-1] = sum(tally)
        if inserted:
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
                route = Route(
                    problem.vehicles[v].id, stops, chk.distance, chk.duration, chk.start_load
                )
                out.append(route)
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
    executor: Executor | None = None,
) -> RoutingResult:
    """Route a coordinate-backed problem by geographic parts (module docstring).

    Never builds a matrix larger than one part's. Finishes within
    ``params.time_limit`` seconds (phases end at fixed fractions of it);
    with ``params.iterations`` set, every phase runs to its end instead.
    With a warm start ``initial`` (see :func:`routing.solve`), each part
    starts from its share of it, and the whole ``initial`` (float-checked)
    is returned instead when it delivers more than the assembled parts.
    The parts run on ``executor`` (``params.workers`` at once), else in this
    process one after another (:func:`routing.parallel.run_parts`).
    """
    started = time.monotonic()
    limit = params.time_limit
    replay = params.replay
    if replay is not None:
        expect(replay, "regional")
        params = replace(params, replay=None)
    record = new("regional") if params.iterations is None and replay is None else None
    rows1: list[dict] | None = [] if record is not None else None
    rows2: list[dict] | None = [] if record is not None else None
    greedy: list[int] | None = [] if record is not None else None

    def at(fraction: float) -> float:
        # Iteration mode or a replay: no phase ends by the clock.
        if params.iterations is not None or replay is not None:
            return math.inf
        return started + fraction * limit

    nv = len(problem.vehicles)
    feasible, reasons = geo_alone_feasibility(problem)
    active = np.array([k for k, r in enumerate(reasons) if r is None], dtype=np.int64)
    routes: Routes = {}
    timed_out: set[int] = set()
    parts1 = parts2 = 0
    if active.size and nv:
        results, parts1 = _solve_round(
            executor,
            problem,
            active,
            np.arange(nv),
            feasible,
            params,
            seed,
            at(PARTS_END),
            initial,
            rows1,
            replay["round1"] if replay is not None else None,
        )
        routes.update(part_routes(problem, results))
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
                executor,
                problem,
                left2,
                unused,
                feasible,
                params,
                seed,
                at(UNUSED_END),
                None,
                rows2,
                replay["round2"] if replay is not None else None,
            )
            routes.update(part_routes(problem, results))
        value2 = _value(problem, routes)
        # Repair (b): greedy insertion into nearby routes.
        served = {c >> 1 for n in routes.values() for c in n}
        left = np.array([k for k in active if k not in served], dtype=np.int64)
        checks = None if params.iterations is None else REPAIR_CHECKS
        _greedy_repair(
            problem,
            routes,
            left,
            feasible,
            at(GREEDY_END),
            checks,
            greedy,
            replay["greedy"] if replay is not None else None,
        )
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
    backend = f"regional({parts1}+{parts2} parts)"
    if record is not None:
        record.update(round1=rows1, round2=rows2, greedy=greedy)
    result = build_result(problem, final, reasons, backend, started, timed_out)
    return replace(result, record=record)
