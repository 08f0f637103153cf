"""Compiled kernels of the ruin-and-recreate distance search (see :mod:`routing.backends.ruin`).

Same arrays and conventions as :mod:`routing.backends.ejection_kernel`
(node 0/1 the start/end depot, per-route forward start times ``S``, latest
starts ``Z``, loads on leaving ``LD``), whose insertion ``walk``,
``_place`` and ``_commit`` this module calls. numba's disk cache does not
notice changes in functions called from another file: after editing
``ejection_kernel``, delete
``routing/backends/__pycache__`` (a fresh clone compiles everything anyway).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from routing.backends.ejection_kernel import BIG, _commit, _place, walk


@njit(cache=True)
def route_cost(row, n, loc, dist, fixed):
    """Distance of a route, plus the vehicle's fixed cost when it serves anyone."""
    if n <= 2:
        return 0
    c = fixed
    for k in range(n - 1):
        c += dist[loc[row[k]], loc[row[k + 1]]]
    return c


@njit(cache=True)
def cheapest(h, seq, S, Z, LD, n, loc, e, late, svc, dur, dist, req_p, req_d, req_q, cap, blink):
    """Cheapest feasible insertion of request ``h`` into one route.

    Returns (added distance, i, j): pickup after position ``i``, delivery
    after position ``j``; the added distance is ``BIG`` when nothing fits.
    The feasibility walk is ``ejection_kernel.walk``'s.
    """
    return walk(
        h, seq, S, Z, LD, n, loc, e, late, svc, dur, dist, req_p, req_d, req_q, cap, blink, True
    )


@njit(cache=True)
def _save(r, seq, rlen, bseq, brlen, touched):
    """Back route ``r`` up the first time this iteration changes it."""
    if touched[r]:
        return
    touched[r] = True
    n = rlen[r]
    brlen[r] = n
    for k in range(n):
        bseq[r, k] = seq[r, k]


@njit(cache=True)
def _sort_keys(mode, removed, nrem, keys, loc, dist, late, req_d, req_q):
    """Order of re-insertion: random, larger loads first, far first or tighter windows first."""
    for t in range(nrem):
        h = removed[t]
        if mode == 0:
            keys[t] = np.random.random()
        elif mode == 1:
            keys[t] = -req_q[h] + np.random.random() * 1e-3
        elif mode == 2:
            keys[t] = -dist[loc[0], loc[req_d[h]]] + np.random.random() * 1e-3
        else:
            keys[t] = late[req_d[h]] + np.random.random() * 1e-3
    order = np.argsort(keys[:nrem])
    out = np.empty(nrem, np.int64)
    for t in range(nrem):
        out[t] = removed[order[t]]
    return out


@njit(cache=True)
def rr_steps(
    iters,
    temp,
    cbar,
    lmax,
    blink,
    nroutes,
    seq,
    rlen,
    S,
    Z,
    LD,
    node_route,
    cost_r,
    cur,
    bseq,
    brlen,
    best_seq,
    best_rlen,
    best,
    neigh,
    loc,
    e,
    late,
    svc,
    dur,
    dist,
    fixed,
    dq,
    start_q,
    node_req,
    req_p,
    req_d,
    req_q,
    cap,
    removed,
    gone,
    touched,
    keys,
    tmp,
):
    """``iters`` ruin-and-recreate iterations at temperature ``temp``; returns those accepted.

    Ruin (Christiaens & Vanden Berghe's adjacent string removal, on
    requests): from a random request, walk its nearest requests (``neigh``)
    and, in each route met for the first time, remove a string of at most
    ``lmax`` consecutive stops around it (with the other stop of every
    request cut), until about ``cbar`` requests are out. Recreate: put them
    back one by one, each at its cheapest feasible place over all routes,
    skipping a fraction ``blink`` of the candidates. An iteration that cannot
    place everyone is undone; otherwise it is accepted when its cost beats
    the current one by a simulated-annealing margin ``-temp × ln(u)``.
    ``cur[0]`` is the current cost, ``best[0]`` the best; ``best_seq`` and
    ``best_rlen`` hold the best plan. The fleet never grows.
    """
    nreq = req_d.shape[0]
    nnb = neigh.shape[1]
    accepted = 0
    for _ in range(iters):
        used = 0
        tasks = 0
        for r in range(nroutes):
            touched[r] = False
            if rlen[r] > 2:
                used += 1
                tasks += rlen[r] - 2
        avg = tasks / max(used, 1)
        ls_max = min(float(lmax), avg)
        ks_max = 4.0 * cbar / (1.0 + ls_max) - 1.0
        ks = int(np.random.random() * ks_max) + 1
        nrem = 0
        ruined = 0
        seed = np.random.randint(nreq)
        for t in range(nnb):
            a = neigh[seed, t]
            if gone[a]:
                continue
            r = node_route[req_d[a]]
            if r < 0 or touched[r]:
                continue
            _save(r, seq, rlen, bseq, brlen, touched)
            n = rlen[r]
            length = int(np.random.random() * min(ls_max, n - 2.0)) + 1
            x = 1
            while seq[r, x] != req_d[a]:
                x += 1
            lo = x - np.random.randint(length)
            lo = max(1, min(lo, n - 1 - length))
            for k in range(lo, lo + length):
                g = node_req[seq[r, k]]
                if not gone[g]:
                    gone[g] = True
                    removed[nrem] = g
                    nrem += 1
            m = 0
            for k in range(n):
                v = seq[r, k]
                g = node_req[v]
                if g >= 0 and gone[g]:
                    node_route[v] = -1
                    continue
                tmp[m] = v
                m += 1
            _commit(r, tmp, m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q)
            ruined += 1
            if ruined >= ks:
                break
        ok = True
        for r in range(nroutes):
            # Removing stops keeps a route on time unless rounding broke the
            # triangle inequality; such an iteration is undone.
            if touched[r]:
                for k in range(rlen[r]):
                    if S[r, k] > late[seq[r, k]]:
                        ok = False
        if ok:
            r_mode = np.random.random() * 11.0
            mode = 0 if r_mode < 4.0 else (1 if r_mode < 8.0 else (2 if r_mode < 10.0 else 3))
            for h in _sort_keys(mode, removed, nrem, keys, loc, dist, late, req_d, req_q):
                bc = BIG
                br = -1
                bi = -1
                bj = -1
                for r in range(nroutes):
                    c, i, j = cheapest(
                        h,
                        seq[r],
                        S[r],
                        Z[r],
                        LD[r],
                        rlen[r],
                        loc,
                        e,
                        late,
                        svc,
                        dur,
                        dist,
                        req_p,
                        req_d,
                        req_q,
                        cap,
                        blink,
                    )
                    if rlen[r] <= 2 and c < BIG:
                        c += fixed  # opening an unused vehicle costs its fixed cost
                    if c < bc:
                        bc = c
                        br = r
                        bi = i
                        bj = j
                if br < 0:
                    ok = False
                    break
                _save(br, seq, rlen, bseq, brlen, touched)
                m = _place(seq[br], rlen[br], tmp, req_p[h], req_d[h], bi, bj)
                _commit(
                    br, tmp, m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q
                )
                gone[h] = False
        new = cur[0]
        if ok:
            for r in range(nroutes):
                if touched[r]:
                    new -= cost_r[r]
                    new += route_cost(seq[r], rlen[r], loc, dist, fixed)
            ok = new < cur[0] - temp * np.log(np.random.random())
        for t in range(nrem):
            gone[removed[t]] = False
        if ok:
            accepted += 1
            cur[0] = new
            for r in range(nroutes):
                if touched[r]:
                    cost_r[r] = route_cost(seq[r], rlen[r], loc, dist, fixed)
            if new < best[0]:
                best[0] = new
                for r in range(nroutes):
                    best_rlen[r] = rlen[r]
                    for k in range(rlen[r]):
                        best_seq[r, k] = seq[r, k]
            continue
        for r in range(nroutes):
            if touched[r]:
                _commit(
                    r,
                    bseq[r],
                    brlen[r],
                    seq,
                    rlen,
                    S,
                    Z,
                    LD,
                    node_route,
                    loc,
                    e,
                    late,
                    svc,
                    dur,
                    dq,
                    start_q,
                )
    return accepted
