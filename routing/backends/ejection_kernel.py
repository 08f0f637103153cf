"""Compiled kernels of the guided ejection search (see :mod:`routing.backends.ejection`).

Everything here is numba ``nopython`` code over plain integer arrays, so
PyVRP's integer model is followed exactly: an insertion this code calls
feasible is feasible in PyVRP's evaluation too.

Nodes: 0 is the start depot, 1 the end depot, the rest are tasks. A request
is a pickup node and a delivery node (``req_p[h] < 0`` for a delivery loaded
at the depot). A route is a row of ``seq`` holding node ids, position 0 the
start depot and position ``n - 1`` the end depot; per position it keeps the
start of service ``S`` (forward), the latest start that keeps the rest of the
route on time ``Z`` (backward) and the load on leaving ``LD`` (``LD[0]`` is
what the vehicle leaves the depot with).
"""

from __future__ import annotations

import numpy as np
from numba import njit

BIG = np.int64(1) << np.int64(60)


@njit(cache=True)
def seed_rng(seed):
    """Seed numba's own generator (it is separate from numpy's)."""
    np.random.seed(seed)


@njit(cache=True)
def recompute(seq, n, S, Z, LD, loc, e, late, svc, dur, dq, start_q):
    """Fill ``S``, ``Z`` and ``LD`` of a route; True when it is on time."""
    load = 0
    for k in range(1, n - 1):
        load += start_q[seq[k]]
    LD[0] = load
    S[0] = e[seq[0]]
    ok = True
    for k in range(1, n):
        u = seq[k - 1]
        v = seq[k]
        S[k] = max(S[k - 1] + svc[u] + dur[loc[u], loc[v]], e[v])
        if S[k] > late[v]:
            ok = False
        LD[k] = LD[k - 1] + dq[v]
    Z[n - 1] = late[seq[n - 1]]
    for k in range(n - 2, -1, -1):
        v = seq[k]
        w = seq[k + 1]
        Z[k] = min(late[v], Z[k + 1] - dur[loc[v], loc[w]] - svc[v])
    return ok


@njit(cache=True)
def _take(count):
    """Keep the ``count``-th feasible insertion? (reservoir sampling: uniform pick)."""
    return count == 1 or np.random.random() * count < 1.0


@njit(cache=True)
def _better(c, best, blink):
    """Keep a cheaper insertion, except the fraction ``blink`` of them (SISR's blinks)."""
    return c < best and (blink <= 0.0 or np.random.random() >= blink)


@njit(cache=True)
def walk(
    h, seq, S, Z, LD, n, loc, e, late, svc, dur, dist, req_p, req_d, req_q, cap, blink, cheapest
):
    """Every feasible insertion of request ``h`` into one route, in one walk.

    A placement is (pickup after position ``i``, delivery after position
    ``j``); the walk between them pushes the pickup's delay forward. With
    ``cheapest`` False it returns (count, i, j): how many placements are
    feasible and one drawn uniformly (``dist`` and ``blink`` unused). With
    ``cheapest`` True it returns (added distance, i, j) of the cheapest,
    skipping the fraction ``blink`` of cheaper candidates (``BIG``: none).
    """
    p = req_p[h]
    d = req_d[h]
    q = req_q[h]
    ldd = loc[d]
    count = 0
    best = BIG
    pick_i = -1
    pick_j = -1
    if p < 0:
        for j in range(n - 1):
            if LD[j] + q > cap:
                break
            u = seq[j]
            lu = loc[u]
            dep = S[j] + svc[u]
            if dep > late[d]:
                break
            sd = max(dep + dur[lu, ldd], e[d])
            if sd > late[d]:
                continue
            w = seq[j + 1]
            lw = loc[w]
            if max(sd + svc[d] + dur[ldd, lw], e[w]) > Z[j + 1]:
                continue
            count += 1
            if cheapest:
                c = dist[lu, ldd] + dist[ldd, lw] - dist[lu, lw]
                if not _better(c, best, blink):
                    continue
                best = c
            elif not _take(count):
                continue
            pick_i = j
            pick_j = j
        return (best if cheapest else count), pick_i, pick_j
    lp = loc[p]
    # suf[k]: the cheapest detour of the delivery alone after any position >= k.
    # A placement (i, k) with k > i costs exactly cp + (the delivery's detour at
    # k), so no placement (i, k' >= k) beats cp + suf[k]: the walk stops there.
    # Pruned candidates could never pass ``_better`` (which draws no random
    # number when c >= best), so the result and the random stream are those of
    # the full walk. Only the cheapest search uses it; counting walks everything.
    suf = np.empty(n if cheapest else 1, np.int64)
    if cheapest:
        suf[n - 1] = BIG
        for k in range(n - 2, -1, -1):
            a = loc[seq[k]]
            b = loc[seq[k + 1]]
            suf[k] = min(suf[k + 1], dist[a, ldd] + dist[ldd, b] - dist[a, b])
    for i in range(n - 1):
        u = seq[i]
        lu = loc[u]
        dep = S[i] + svc[u]
        if dep > late[p]:
            break
        if LD[i] + q > cap:
            continue
        sp = max(dep + dur[lu, lp], e[p])
        if sp > late[p]:
            continue
        dp = sp + svc[p]
        # Delivery right after the pickup.
        w = seq[i + 1]
        lw = loc[w]
        sd = max(dp + dur[lp, ldd], e[d])
        if sd <= late[d] and max(sd + svc[d] + dur[ldd, lw], e[w]) <= Z[i + 1]:
            count += 1
            if cheapest:
                c = dist[lu, lp] + dist[lp, ldd] + dist[ldd, lw] - dist[lu, lw]
                if _better(c, best, blink):
                    best = c
                    pick_i = i
                    pick_j = i
            elif _take(count):
                pick_i = i
                pick_j = i
        cp = 0
        if cheapest:
            cp = dist[lu, lp] + dist[lp, lw] - dist[lu, lw]
            if cp + suf[i + 1] >= best:
                continue  # no later delivery can make it cheaper
        # Delivery later: walk the pushed-forward times of the nodes between.
        prev_dep = dp
        prev_loc = lp
        for k in range(i + 1, n - 1):
            if cheapest and cp + suf[k] >= best:
                break
            v = seq[k]
            lv = loc[v]
            sk = max(prev_dep + dur[prev_loc, lv], e[v])
            if sk > Z[k] or LD[k] + q > cap:
                break
            dk = sk + svc[v]
            if dk > late[d]:
                break
            sd = max(dk + dur[lv, ldd], e[d])
            if sd <= late[d]:
                w2 = seq[k + 1]
                lw2 = loc[w2]
                if max(sd + svc[d] + dur[ldd, lw2], e[w2]) <= Z[k + 1]:
                    count += 1
                    if cheapest:
                        c = cp + dist[lv, ldd] + dist[ldd, lw2] - dist[lv, lw2]
                        if _better(c, best, blink):
                            best = c
                            pick_i = i
                            pick_j = k
                    elif _take(count):
                        pick_i = i
                        pick_j = k
            prev_dep = dk
            prev_loc = lv
    return (best if cheapest else count), pick_i, pick_j


@njit(cache=True)
def scan(h, seq, S, Z, LD, n, loc, e, late, svc, dur, req_p, req_d, req_q, cap):
    """Feasible insertions of request ``h`` into one route.

    Returns (count, i, j): how many (pickup after position ``i``, delivery
    after position ``j``) insertions are feasible, and one of them drawn
    uniformly.
    """
    return walk(
        h, seq, S, Z, LD, n, loc, e, late, svc, dur, dur, req_p, req_d, req_q, cap, 0.0, False
    )


@njit(cache=True)
def _place(src, n, dst, p, d, i, j):
    """``dst`` = ``src`` with ``p`` after position ``i`` and ``d`` after ``j``."""
    m = 0
    if p < 0:
        for k in range(n):
            dst[m] = src[k]
            m += 1
            if k == j:
                dst[m] = d
                m += 1
        return m
    for k in range(n):
        dst[m] = src[k]
        m += 1
        if k == i:
            dst[m] = p
            m += 1
        if k == j:
            dst[m] = d
            m += 1
    return m


@njit(cache=True)
def _without(src, n, dst, node_req, a, b):
    """``dst`` = ``src`` without the nodes of requests ``a`` and ``b`` (-1: none)."""
    m = 0
    for k in range(n):
        v = src[k]
        r = node_req[v]
        if r >= 0 and r in (a, b):
            continue
        dst[m] = v
        m += 1
    return m


@njit(cache=True)
def _commit(r, tmp, m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q):
    """Make ``tmp[:m]`` route ``r`` and refresh its caches (``tmp`` may be ``seq[r]`` itself)."""
    for k in range(m):
        seq[r, k] = tmp[k]
        node_route[tmp[k]] = r
    rlen[r] = m
    recompute(seq[r], m, S[r], Z[r], LD[r], loc, e, late, svc, dur, dq, start_q)


@njit(cache=True)
def ges_steps(
    steps,
    kmax,
    perturb_moves,
    nroutes,
    seq,
    rlen,
    S,
    Z,
    LD,
    node_route,
    ep,
    ep_size,
    ep_low,
    pen,
    loc,
    e,
    late,
    svc,
    dur,
    dq,
    start_q,
    node_req,
    req_p,
    req_d,
    req_q,
    cap,
    tmp,
    tmp2,
    tS,
    tZ,
    tLD,
    tS2,
    tZ2,
    tLD2,
):
    """Up to ``steps`` iterations of the ejection search; returns those done.

    One iteration takes the request on top of the ejection pool ``ep``:
    inserted at a random feasible place if there is one (cheapest-first was
    measured worse on distance, see docs/experiments.md); otherwise its
    penalty counter goes up, and the ``kmax`` or fewer requests of one route
    whose ejection lets it in with the least summed counters are ejected
    (ties drawn at random) and pushed on the pool, then the plan is shaken
    by ``perturb_moves`` random feasible relocations and exchanges.
    ``ep_low[0]`` keeps the smallest pool size seen.
    """
    done = 0
    nreq = req_d.shape[0]
    while done < steps and ep_size[0] > 0:
        done += 1
        ep_size[0] -= 1
        h = ep[ep_size[0]]
        # 1. A random feasible insertion over all routes.
        total = 0
        br = -1
        bi = -1
        bj = -1
        for r in range(nroutes):
            c, i, j = scan(
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
                req_p,
                req_d,
                req_q,
                cap,
            )
            if c > 0:
                total += c
                if np.random.random() * total < c:
                    br = r
                    bi = i
                    bj = j
        if br >= 0:
            m = _place(seq[br], rlen[br], tmp, req_p[h], req_d[h], bi, bj)
            _commit(
                br, tmp, m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q
            )
            if ep_size[0] < ep_low[0]:
                ep_low[0] = ep_size[0]
            continue
        # 2. Insertion with ejection, guided by the penalty counters.
        pen[h] += 1
        best_p = BIG
        ties = 0
        er = -1
        ea = -1
        eb = -1
        ei = -1
        ej = -1
        for r in range(nroutes):
            n = rlen[r]
            row = seq[r]
            for x in range(1, n - 1):
                a = node_req[row[x]]
                if row[x] != req_d[a]:
                    continue  # each request once, at its delivery node
                pa = pen[a]
                if pa > best_p:
                    continue
                # b == -1 ejects a alone; otherwise a and a later request b.
                for y in range(x, n - 1):
                    if y == x:
                        b = -1
                        pb = 0
                    else:
                        b = node_req[row[y]]
                        if row[y] != req_d[b]:
                            continue
                        if kmax < 2:
                            break
                        pb = pen[b]
                    total_p = pa + pb
                    if total_p > best_p:
                        continue
                    m = _without(row, n, tmp2, node_req, a, b)
                    if not recompute(tmp2, m, tS, tZ, tLD, loc, e, late, svc, dur, dq, start_q):
                        continue
                    c, i, j = scan(
                        h,
                        tmp2,
                        tS,
                        tZ,
                        tLD,
                        m,
                        loc,
                        e,
                        late,
                        svc,
                        dur,
                        req_p,
                        req_d,
                        req_q,
                        cap,
                    )
                    if c == 0:
                        continue
                    if total_p < best_p:
                        best_p = total_p
                        ties = 1
                    else:
                        ties += 1
                        if np.random.random() * ties >= 1.0:
                            continue
                    er = r
                    ea = a
                    eb = b
                    ei = i
                    ej = j
        if er < 0:
            # Nothing of kmax requests makes room: retry after a shake.
            ep[ep_size[0]] = h
            ep_size[0] += 1
        else:
            m = _without(seq[er], rlen[er], tmp2, node_req, ea, eb)
            m = _place(tmp2, m, tmp, req_p[h], req_d[h], ei, ej)
            _commit(
                er, tmp, m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q
            )
            for g in (ea, eb):
                if g >= 0:
                    node_route[req_d[g]] = -1
                    if req_p[g] >= 0:
                        node_route[req_p[g]] = -1
                    ep[ep_size[0]] = g
                    ep_size[0] += 1
        # 3. Shake: random feasible relocations and exchanges between routes.
        if nroutes < 2:
            continue
        for _ in range(perturb_moves):
            a = np.random.randint(nreq)
            r1 = node_route[req_d[a]]
            if r1 < 0:
                continue
            r2 = np.random.randint(nroutes - 1)
            if r2 >= r1:
                r2 += 1
            if np.random.random() < 0.5:
                c, i, j = scan(
                    a,
                    seq[r2],
                    S[r2],
                    Z[r2],
                    LD[r2],
                    rlen[r2],
                    loc,
                    e,
                    late,
                    svc,
                    dur,
                    req_p,
                    req_d,
                    req_q,
                    cap,
                )
                if c == 0:
                    continue
                m = _without(seq[r1], rlen[r1], tmp2, node_req, a, -1)
                _commit(
                    r1,
                    tmp2,
                    m,
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
                m = _place(seq[r2], rlen[r2], tmp, req_p[a], req_d[a], i, j)
                _commit(
                    r2, tmp, m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q
                )
                continue
            # Exchange a with a random request b of r2.
            n2 = rlen[r2]
            if n2 <= 2:
                continue
            x = 1 + np.random.randint(n2 - 2)
            b = node_req[seq[r2, x]]
            m1 = _without(seq[r1], rlen[r1], tmp, node_req, a, -1)
            if not recompute(tmp, m1, tS, tZ, tLD, loc, e, late, svc, dur, dq, start_q):
                continue
            c, i1, j1 = scan(
                b,
                tmp,
                tS,
                tZ,
                tLD,
                m1,
                loc,
                e,
                late,
                svc,
                dur,
                req_p,
                req_d,
                req_q,
                cap,
            )
            if c == 0:
                continue
            m2 = _without(seq[r2], n2, tmp2, node_req, b, -1)
            if not recompute(tmp2, m2, tS2, tZ2, tLD2, loc, e, late, svc, dur, dq, start_q):
                continue
            c, i2, j2 = scan(
                a,
                tmp2,
                tS2,
                tZ2,
                tLD2,
                m2,
                loc,
                e,
                late,
                svc,
                dur,
                req_p,
                req_d,
                req_q,
                cap,
            )
            if c == 0:
                continue
            m = _place(tmp2, m2, seq[r2], req_p[a], req_d[a], i2, j2)
            _commit(
                r2, seq[r2], m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q
            )
            m = _place(tmp, m1, seq[r1], req_p[b], req_d[b], i1, j1)
            _commit(
                r1, seq[r1], m, seq, rlen, S, Z, LD, node_route, loc, e, late, svc, dur, dq, start_q
            )
    return done
