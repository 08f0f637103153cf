"""Route minimisation by guided ejection search, on a PyVRP model.

The benchmarks' objective puts vehicles first, and their best-known vehicle
counts come from dedicated route minimisers. This is the one of Nagata and
Bräysy ("A powerful route minimization heuristic for the vehicle routing
problem with time windows", Operations Research Letters 2009) in the form
Nagata and Kobayashi gave it for paired pickups and deliveries ("Guided
ejection search for the pickup and delivery problem with time windows",
EvoCOP 2010): delete a route, put its requests in an *ejection pool*, and
re-insert them one by one (last in, first out). A request that fits nowhere
raises its own penalty counter and goes in anyway, ejecting the one or two
requests of a route whose counters sum least; those join the pool. Requests
that keep coming back grow expensive to eject, so the search learns which
ones are hard. After each ejection the plan is shaken by random feasible
relocations and exchanges. When the pool is empty the plan has one route
fewer and the next route is deleted; when time runs out, the last complete
plan stands.

Runs only on benchmark objectives: every shipment required and vehicle fixed
costs that outweigh any distance (``_fleet_first`` in
:mod:`routing.backends.pyvrp_backend` is the one gate). A Jessr day has
optional shipments and no fixed costs, so its PyVRP run branches away there
and goes straight to PyVRP's own search: a reader of a day's path can skip
this module.

The inner loop is compiled (:mod:`routing.backends.ejection_kernel`, numba):
it does tens of thousands of insertion checks per ejection, which plain
Python cannot afford. It works on PyVRP's own integer data (matrices, time
windows, loads), so every plan it returns is feasible in PyVRP's model; the
caller still checks it there.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import pyvrp

from routing.backends import ejection_kernel as kern

log = logging.getLogger(__name__)

KMAX = 2  # at most this many requests ejected to make room for one
# A deletion is given up after this many steps without a smaller pool
# (at least STALL_MIN, or STALL_PER_REQUEST per request of the problem), so
# an unreachable route count does not eat the distance search's time.
STALL_MIN = 5_000
STALL_PER_REQUEST = 50
# ... or after this share of the time given without a smaller pool: where
# steps are slow (long routes) 5,000 steps took 3.9 s of R205's 10 s.
STALL_SHARE = 0.15
# A deletion that stalls with at most NEAR_MISS requests left in the pool is
# retried from the last complete plan with another route deleted, up to
# RETRIES times per target (R108 at 10 s stalled with 1 request left).
NEAR_MISS = 2
RETRIES = 4
# ... except in a *patient* search (the second of two, routing.multistart)
# on a long run (at least PATIENT_SECONDS) of a model with pairs: it keeps
# at a target until its time is up, as in Nagata and Bräysy's original.
# Measured on Li & Lim 400 at 60 s (``docs/experiments.md``, 2026-12-03):
# the step rule gave up targets with 20 s of the fleet share left
# that 10-20 s more reached, but patience in every search also spent the
# share on hopeless targets, and distance suffered. So one search bets on
# vehicles and the other keeps the rules (2026-12-03). Client-only
# models keep the rules here: a patient search of clients only hands the
# target this search gave up to absence rounds instead, a different search
# (pyvrp_fleet; 2026-12-04: Solomon R104's 9 routes, which 24 s of
# patience here missed by one client).
PATIENT_SECONDS = 15.0
PERTURB_MOVES = 100  # random relocations/exchanges tried after each ejection
CHUNK_SECONDS = 0.05  # compiled steps between two looks at the clock


@dataclass
class _Model:
    """PyVRP's data as the kernel's arrays (node 0/1 = start/end depot)."""

    loc: np.ndarray
    e: np.ndarray
    late: np.ndarray  # latest start of service
    svc: np.ndarray
    dq: np.ndarray
    start_q: np.ndarray
    node_req: np.ndarray
    req_p: np.ndarray
    req_d: np.ndarray
    req_q: np.ndarray
    dur: np.ndarray
    cap: int
    num_clients: int


UNLIMITED = np.iinfo(np.int64).max // 4  # PyVRP's "no limit" defaults are above this


def supports(data: pyvrp.ProblemData) -> bool:
    """Whether the kernel follows every rule of ``data`` (else it declines it)."""
    if data.num_vehicle_types != 1 or data.num_load_dimensions > 1:
        return False
    vt = data.vehicle_type(0)
    start, end = data.depot(vt.start_depot), data.depot(vt.end_depot)
    return not (
        vt.max_duration < UNLIMITED
        or vt.shift_duration < UNLIMITED
        or vt.max_distance < UNLIMITED
        or len(vt.reload_depots) > 0
        or any(int(x) for x in vt.initial_load)
        or start.service_duration
        or end.service_duration
        or any(
            c.release_time or any(int(x) for x in c.pickup) or c.group is not None
            for c in data.clients()
        )
    )


def _model(data: pyvrp.ProblemData) -> _Model | None:
    """The kernel's arrays, or ``None`` when ``data`` has what the kernel lacks."""
    if not supports(data):
        return None
    vt = data.vehicle_type(0)
    start, end = data.depot(vt.start_depot), data.depot(vt.end_depot)
    clients, ships = data.clients(), data.shipments()
    nc, ns = len(clients), len(ships)
    nodes = 2 + nc + 2 * ns
    loc = np.zeros(nodes, np.int64)
    e = np.zeros(nodes, np.int64)
    late = np.zeros(nodes, np.int64)
    svc = np.zeros(nodes, np.int64)
    dq = np.zeros(nodes, np.int64)
    start_q = np.zeros(nodes, np.int64)
    node_req = np.full(nodes, -1, np.int64)
    req_p = np.full(nc + ns, -1, np.int64)
    req_d = np.zeros(nc + ns, np.int64)
    req_q = np.zeros(nc + ns, np.int64)
    one = data.num_load_dimensions == 1
    loc[0], loc[1] = start.location, end.location
    e[0] = e[1] = max(vt.tw_early, start.tw_early)
    late[0] = late[1] = min(vt.tw_late, end.tw_late, UNLIMITED)
    late[0] = min(late[0], vt.start_late, start.tw_late)
    for c, cl in enumerate(clients):
        v = 2 + c
        q = int(cl.delivery[0]) if one else 0
        loc[v], e[v], late[v], svc[v] = (
            cl.location,
            cl.tw_early,
            min(cl.tw_late, UNLIMITED),
            (cl.service_duration),
        )
        dq[v], start_q[v] = -q, q
        node_req[v], req_d[c], req_q[c] = c, v, q
    for s, sh in enumerate(ships):
        h = nc + s
        p, d = 2 + nc + 2 * s, 3 + nc + 2 * s
        q = int(sh.amount[0]) if one else 0
        for v, act in ((p, sh.pickup), (d, sh.delivery)):
            loc[v], e[v], late[v], svc[v] = (
                act.location,
                act.tw_early,
                min(act.tw_late, UNLIMITED),
                (act.service_duration),
            )
            node_req[v] = h
        dq[p], dq[d] = q, -q
        req_p[h], req_d[h], req_q[h] = p, d, q
    return _Model(
        loc,
        e,
        late,
        svc,
        dq,
        start_q,
        node_req,
        req_p,
        req_d,
        req_q,
        np.ascontiguousarray(data.duration_matrix(vt.profile), dtype=np.int64),
        int(vt.capacity[0]) if one else 0,
        nc,
    )


def _node(act: pyvrp.Activity, nc: int) -> int:
    if act.is_client():
        return 2 + act.idx
    return 2 + nc + 2 * act.idx + (1 if act.is_delivery() else 0)


def _activity(node: int, nc: int) -> pyvrp.Activity:
    if node < 2 + nc:
        return pyvrp.Activity(pyvrp.ActivityType.CLIENT, node - 2)
    s, is_delivery = divmod(node - 2 - nc, 2)
    kind = pyvrp.ActivityType.DELIVERY if is_delivery else pyvrp.ActivityType.PICKUP
    return pyvrp.Activity(kind, s)


class _Search:
    """The kernel's state: routes, their caches, the pool and the counters."""

    def __init__(self, m: _Model, routes: list[list[int]]) -> None:
        self.m = m
        nodes = len(m.loc)
        rows = max(len(routes), 1)
        self.seq = np.zeros((rows, nodes), np.int64)
        self.rlen = np.zeros(rows, np.int64)
        self.S = np.zeros((rows, nodes), np.int64)
        self.Z = np.zeros((rows, nodes), np.int64)
        self.LD = np.zeros((rows, nodes), np.int64)
        self.node_route = np.full(nodes, -1, np.int64)
        self.ep = np.zeros(len(m.req_d), np.int64)
        self.ep_size = np.zeros(1, np.int64)
        self.ep_low = np.zeros(1, np.int64)
        self.pen = np.ones(len(m.req_d), np.int64)
        self.tmp = [np.zeros(nodes, np.int64) for _ in range(2)]
        self.tcache = [np.zeros(nodes, np.int64) for _ in range(6)]
        self.nroutes = len(routes)
        self.feasible = True
        for r, nodes_r in enumerate(routes):
            row = [0, *nodes_r, 1]
            self.seq[r, : len(row)] = row
            self.rlen[r] = len(row)
            self.node_route[nodes_r] = r
            self.feasible &= self._refresh(r)

    def _refresh(self, r: int) -> bool:
        m = self.m
        return bool(
            kern.recompute(
                self.seq[r],
                self.rlen[r],
                self.S[r],
                self.Z[r],
                self.LD[r],
                m.loc,
                m.e,
                m.late,
                m.svc,
                m.dur,
                m.dq,
                m.start_q,
            )
        )

    def routes(self) -> list[list[int]]:
        return [
            [int(v) for v in self.seq[r, 1 : self.rlen[r] - 1]]
            for r in range(self.nroutes)
            if self.rlen[r] > 2
        ]

    def snapshot(self) -> tuple:
        return (self.nroutes, self.seq.copy(), self.rlen.copy(), self.node_route.copy())

    def restore(self, snap: tuple) -> None:
        self.nroutes, seq, rlen, node_route = snap
        self.seq[:], self.rlen[:], self.node_route[:] = seq, rlen, node_route
        self.ep_size[0] = 0
        for r in range(self.nroutes):
            self._refresh(r)

    def drop_route(self, r: int) -> None:
        """Delete route ``r``: its requests go to the pool, counters restart at 1."""
        last = self.nroutes - 1
        nodes = self.seq[r, 1 : self.rlen[r] - 1].copy()
        if r != last:
            n = self.rlen[last]
            self.seq[r, :n] = self.seq[last, :n]
            self.rlen[r] = n
            self.node_route[self.seq[r, 1 : n - 1]] = r
            self._refresh(r)
        self.nroutes = last
        self.node_route[nodes] = -1
        reqs = [int(self.m.node_req[v]) for v in nodes if v == self.m.req_d[self.m.node_req[v]]]
        self.ep[: len(reqs)] = reqs[::-1]  # the route's first request on top
        self.ep_size[0] = self.ep_low[0] = len(reqs)
        self.pen[:] = 1

    def compact(self) -> None:
        """Remove routes that the shaking emptied."""
        keep = [r for r in range(self.nroutes) if self.rlen[r] > 2]
        for new, old in enumerate(keep):
            if new != old:
                n = self.rlen[old]
                self.seq[new, :n] = self.seq[old, :n]
                self.rlen[new] = n
                self.node_route[self.seq[new, 1 : n - 1]] = new
                self._refresh(new)
        self.nroutes = len(keep)

    def steps(self, count: int) -> int:
        m = self.m
        t = self.tcache
        return int(
            kern.ges_steps(
                count,
                KMAX,
                PERTURB_MOVES,
                self.nroutes,
                self.seq,
                self.rlen,
                self.S,
                self.Z,
                self.LD,
                self.node_route,
                self.ep,
                self.ep_size,
                self.ep_low,
                self.pen,
                m.loc,
                m.e,
                m.late,
                m.svc,
                m.dur,
                m.dq,
                m.start_q,
                m.node_req,
                m.req_p,
                m.req_d,
                m.req_q,
                m.cap,
                self.tmp[0],
                self.tmp[1],
                t[0],
                t[1],
                t[2],
                t[3],
                t[4],
                t[5],
            )
        )


def stall_limits(
    seconds: float, requests: int, pairs: bool, patient: bool = False
) -> tuple[float, float]:
    """(steps, seconds) without a smaller pool after which a deletion is given up.

    Infinite for a ``patient`` long search (``seconds`` at least
    ``PATIENT_SECONDS``) on a model with pickup-and-delivery pairs (see
    ``PATIENT_SECONDS``).
    """
    if patient and pairs and seconds >= PATIENT_SECONDS:
        return math.inf, math.inf
    return max(STALL_MIN, STALL_PER_REQUEST * requests), STALL_SHARE * seconds


def minimise_routes(
    data: pyvrp.ProblemData,
    warm: pyvrp.Solution,
    seconds: float,
    seed: int,
    bound: int = 1,
    max_steps: int | None = None,
    patient: bool = False,
) -> pyvrp.Solution | None:
    """Fewest-route plan of ``data`` found from ``warm`` in ``seconds``.

    Deletes one route after another (chosen at random) until ``bound``
    routes, the time or ``max_steps`` ejection steps (for reproducible runs)
    run out, or a deletion stalls (:func:`stall_limits`). Returns the plan
    with the fewest routes, checked feasible by PyVRP, or ``None`` when none
    has fewer routes than ``warm`` or the model has features the kernel does
    not handle. ``patient``: never give up a deletion on a long search of a
    model with pairs (``PATIENT_SECONDS``).
    """
    deadline = time.monotonic() + seconds
    m = _model(data)
    if m is None or not warm.is_feasible():
        return None
    search = _Search(
        m, [[_node(a, m.num_clients) for a in r if not a.is_depot()] for r in warm.routes()]
    )
    if not search.feasible:
        return None  # PyVRP's plan is late in the kernel's terms: models differ
    kern.seed_rng(seed)
    rng = np.random.default_rng(seed)
    best, start_routes = search.snapshot(), search.nroutes
    chunk, steps_left, total = 8, max_steps, 0
    stall, stall_seconds = stall_limits(seconds, len(m.req_d), data.num_shipments > 0, patient)
    retries = 0
    while search.nroutes > bound and time.monotonic() < deadline:
        search.drop_route(int(rng.integers(search.nroutes)))
        low, since, low_at = int(search.ep_low[0]), 0, time.monotonic()
        while search.ep_size[0] > 0 and time.monotonic() < deadline and since < stall:
            if steps_left is None and time.monotonic() - low_at > stall_seconds:
                break
            if steps_left is not None:
                if steps_left <= 0:
                    break
                chunk = min(16, steps_left)
            began = time.monotonic()
            done = search.steps(chunk)
            total += done
            since += done
            if search.ep_low[0] < low:
                low, since, low_at = int(search.ep_low[0]), 0, time.monotonic()
            if steps_left is not None:
                steps_left -= done
            else:  # about CHUNK_SECONDS of compiled work between clock checks
                per_step = (time.monotonic() - began) / max(done, 1)
                chunk = int(min(max(CHUNK_SECONDS / max(per_step, 1e-6), 1), 4096))
        if search.ep_size[0] > 0:
            search.restore(best)
            if low <= NEAR_MISS and retries < RETRIES and steps_left != 0:
                retries += 1
                log.debug("ejection: retry %d (%d left in the pool at best)", retries, low)
                continue
            log.debug(
                "ejection: gave up on %d routes after %d steps (%d left in the pool at best)",
                search.nroutes - 1,
                total,
                low,
            )
            break
        retries = 0
        search.compact()
        best = search.snapshot()
        log.debug(
            "ejection: %d routes after %d steps, %.1f s left",
            search.nroutes,
            total,
            deadline - time.monotonic(),
        )
    if search.nroutes >= start_routes:
        return None
    nc = m.num_clients
    routes = [pyvrp.Route(data, [_activity(v, nc) for v in r], 0) for r in search.routes()]
    try:
        sol = pyvrp.Solution(data, routes)
    except (ValueError, RuntimeError):
        return None
    return sol if sol.is_feasible() else None


def tiny_model() -> tuple[pyvrp.ProblemData, pyvrp.Solution]:
    """A two-route problem (one depot-loaded client, one pair) and its plan, to compile kernels."""
    mat = np.array([[0, 5, 5, 5], [5, 0, 5, 5], [5, 5, 0, 5], [5, 5, 5, 0]])
    data = pyvrp.ProblemData(
        [pyvrp.Location(x=0.0, y=0.0) for _ in range(4)],
        [pyvrp.Client(location=1, delivery=[1])],
        [pyvrp.Depot(location=0)],
        [pyvrp.VehicleType(num_available=2, capacity=[2])],
        [mat],
        [mat],
        [],
        [pyvrp.Shipment(2, 3, amount=[1])],
    )
    client = pyvrp.Activity(pyvrp.ActivityType.CLIENT, 0)
    pair = [
        pyvrp.Activity(pyvrp.ActivityType.PICKUP, 0),
        pyvrp.Activity(pyvrp.ActivityType.DELIVERY, 0),
    ]
    return data, pyvrp.Solution(data, [pyvrp.Route(data, [client], 0), pyvrp.Route(data, pair, 0)])


def warm_up() -> None:
    """Compile every kernel now (numba caches them on disk) on a tiny problem."""
    minimise_routes(*tiny_model(), 10.0, 0, max_steps=10)


if __name__ == "__main__":
    warm_up()
