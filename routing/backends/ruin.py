"""Distance at a fixed fleet by ruin and recreate (SISR), on a PyVRP model.

After the route minimiser (:mod:`routing.backends.ejection`) the plan has
the fewest routes found but distances that are random: the ejection search
shakes the plan without looking at distance. PyVRP's local search repairs
part of that, not all (Li & Lim 200 at 60 s: lr1_2_10 13 % and lrc2_2_*
6–9 % above the best-known distance at the best-known vehicle count).

Runs only on benchmark objectives: every shipment required and vehicle fixed
costs that outweigh any distance (``_fleet_first`` in
:mod:`routing.backends.pyvrp_backend` is the one gate). A Jessr day has
optional shipments and no fixed costs, so its PyVRP run branches away there
and goes straight to PyVRP's own search: a reader of a day's path can skip
this module.

This is the distance phase of Christiaens and Vanden Berghe's *slack
induction by string removals* ("Slack induction by string removals for
vehicle routing problems", Transportation Science 2020), with requests in
place of customers: remove a few strings of nearby stops, put their
requests back at their cheapest feasible places (with blinks), accept by
simulated annealing, with the temperature falling geometrically over the
time given. It never opens a route beyond the plan's own count, so the
fleet the minimiser reached is kept. The compiled kernel is in
:mod:`routing.backends.ruin_kernel`; its plans are in PyVRP's integer model
and are checked there before they are returned.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pyvrp

from routing.backends import ejection
from routing.backends import ruin_kernel as kern

log = logging.getLogger(__name__)

CBAR = 10.0  # mean number of requests removed per iteration (SISR's c̄)
LMAX = 10  # longest string removed from one route (SISR's L_max)
BLINK = 0.01  # share of the cheaper insertions skipped (SISR's β)
# Temperatures, in units of the plan's mean edge length: SISR's 100 → 1 on
# Solomon-scale distances is about 10 → 0.1 edges, for 10⁸ iterations; from
# an already good plan and ~10⁶ iterations the start is cooler.
T_START = 1.0
T_END = 0.01
CHUNK_SECONDS = 0.05
NEIGHBOURS = 100  # nearest requests walked by the ruin


def _neighbours(m: ejection._Model, dist: np.ndarray, k: int) -> np.ndarray:
    """Per request, the ``k`` nearest requests (itself first), by pickup + delivery distance.

    Distances both ways count (matrices may be asymmetric); rows are done in
    blocks so a large problem never holds a requests × requests matrix.
    """
    dloc = m.loc[m.req_d]
    ploc = np.where(m.req_p >= 0, m.loc[np.maximum(m.req_p, 0)], m.loc[0])
    n = len(dloc)
    out = np.empty((n, k), np.int64)
    for lo in range(0, n, 256):
        rows = slice(lo, min(lo + 256, n))
        gap = (
            dist[np.ix_(ploc[rows], ploc)]
            + dist[np.ix_(ploc, ploc[rows])].T
            + dist[np.ix_(dloc[rows], dloc)]
            + dist[np.ix_(dloc, dloc[rows])].T
        )
        gap[np.arange(gap.shape[0]), np.arange(lo, rows.stop)] = -1  # itself first
        out[rows] = np.argsort(gap, axis=1, kind="stable")[:, :k]
    return out


def improve(
    data: pyvrp.ProblemData,
    sol: pyvrp.Solution,
    seconds: float,
    seed: int,
    max_iterations: int | None = None,
) -> pyvrp.Solution | None:
    """A cheaper plan than ``sol`` with no more routes, or ``None`` (none found or unsupported).

    Runs for ``seconds`` (or exactly ``max_iterations`` iterations, for
    reproducible runs, with the temperature then falling per iteration).
    """
    deadline = time.monotonic() + seconds
    m = ejection._model(data)
    if m is None or not sol.is_feasible() or sol.num_routes() == 0:
        return None
    nc = m.num_clients
    search = ejection._Search(
        m, [[ejection._node(a, nc) for a in r if not a.is_depot()] for r in sol.routes()]
    )
    if not search.feasible:
        return None
    vt = data.vehicle_type(0)
    dist = np.ascontiguousarray(data.distance_matrix(vt.profile), dtype=np.int64)
    fixed = int(vt.fixed_cost)
    nr, nodes, nreq = search.nroutes, len(m.loc), len(m.req_d)
    cost_r = np.array(
        [kern.route_cost(search.seq[r], search.rlen[r], m.loc, dist, fixed) for r in range(nr)],
        dtype=np.int64,
    )
    start_cost = int(cost_r.sum())
    cur = np.array([start_cost], np.int64)
    best = cur.copy()
    best_seq, best_rlen = search.seq.copy(), search.rlen.copy()
    bseq, brlen = np.zeros_like(search.seq), np.zeros_like(search.rlen)
    neigh = _neighbours(m, dist, min(NEIGHBOURS, nreq))
    removed, keys = np.zeros(nreq, np.int64), np.zeros(nreq, np.float64)
    gone, touched = np.zeros(nreq, np.bool_), np.zeros(nr, np.bool_)
    tmp = np.zeros(nodes, np.int64)
    edge = (start_cost - fixed * sol.num_routes()) / max(nodes - 2 + sol.num_routes(), 1)
    t_start, t_end = T_START * edge, T_END * edge
    ejection.kern.seed_rng(seed)  # numba's generator is one per thread, shared by kernels
    began = time.monotonic()
    done, chunk, accepted = 0, 16, 0
    while True:
        if max_iterations is not None:
            if done >= max_iterations:
                break
            frac = done / max(max_iterations, 1)
            chunk = min(chunk, max_iterations - done)
        else:
            now = time.monotonic()
            if now >= deadline:
                break
            frac = (now - began) / max(deadline - began, 1e-9)
        temp = t_start * math.pow(t_end / t_start, frac) if t_start > 0 else 0.0
        t0 = time.monotonic()
        accepted += kern.rr_steps(
            chunk,
            temp,
            CBAR,
            LMAX,
            BLINK,
            nr,
            search.seq,
            search.rlen,
            search.S,
            search.Z,
            search.LD,
            search.node_route,
            cost_r,
            cur,
            bseq,
            brlen,
            best_seq,
            best_rlen,
            best,
            neigh,
            m.loc,
            m.e,
            m.late,
            m.svc,
            m.dur,
            dist,
            fixed,
            m.dq,
            m.start_q,
            m.node_req,
            m.req_p,
            m.req_d,
            m.req_q,
            m.cap,
            removed,
            gone,
            touched,
            keys,
            tmp,
        )
        done += chunk
        if max_iterations is None:
            per = (time.monotonic() - t0) / chunk
            chunk = int(min(max(CHUNK_SECONDS / max(per, 1e-7), 1), 100_000))
    log.debug(
        "ruin: %d iterations (%d accepted), cost %d -> %d", done, accepted, start_cost, best[0]
    )
    if best[0] >= start_cost:
        return None
    routes = [
        pyvrp.Route(data, [ejection._activity(int(v), nc) for v in row[1 : n - 1]], 0)
        for row, n in zip(best_seq, best_rlen, strict=True)
        if n > 2
    ]
    try:
        out = pyvrp.Solution(data, routes)
    except (ValueError, RuntimeError):
        return None
    return out if out.is_feasible() else None


def warm_up() -> None:
    """Compile the kernel now (numba caches it on disk) on a tiny problem."""
    improve(*ejection.tiny_model(), 10.0, 0, max_iterations=10)


if __name__ == "__main__":
    warm_up()
