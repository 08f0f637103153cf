"""Dense allocation days: few categories, many lots within reach of many households.

    python -m bench.dense_days --requests 20000 --lots 2000 --seed 1 [--workers 2]
    python -m bench.dense_days --sizes 20k,50k --repeats 3 --out BENCHMARKS.md

The project's own generator (``engine.generate``) spreads a day over fourteen
categories and a few hundred shared depots, so each request has a modest
number of eligible lots. Real days can be denser: a network collecting only
two or three kinds of goods, lots scattered over a country, every one of them
within 150 km of thousands of households. These days stress the exact
allocation where it is weakest (the eligible pairs grow with
requests × lots), so they are benchmarked beside the generator's.

A day is drawn from one seeded ``numpy`` generator (same seed, same day):
households around 24 towns of a Tunisia-sized box (Gaussian spread of about
110 km, clipped to the box; three quarters of the towns in the northern and
coastal half), lots at
their own coordinates around the same towns (no shared depots, no donor
restriction), one to three categories with a dominant one (70 % / 20 % / 10 %),
and supply short of demand (ratio 0.6) so that priorities compete. At
20,000 × 2,000 this gives about 4 M eligible pairs, at 100,000 × 10,000 about
10⁸, as on the denser days seen outside the generator.

Timed: the allocation only (``matching.solve`` on the day's
``MatchingProblem``), then one plain OR-Tools ``SimpleMinCostFlow`` over all
eligible pairs maximising value only (``--no-reference`` skips it: at
100k × 10k it needs ~100 M arcs). Printed: both times, the peak RSS, and
whether the two values are equal (exactness check).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from bench.report import commit, machine, write_section
from matching import Lot, MatchingParams, MatchingProblem, Need, solve
from matching.geo import chord_for_km, great_circle_km, unit_vectors

DAY = date(2026, 11, 28)
SECTION = "dense-days"
SIZES = {"20k": (20_000, 2_000), "50k": (50_000, 5_000), "100k": (100_000, 10_000)}
CATEGORY_SHARE = (0.7, 0.2, 0.1)
SUPPLY_RATIO = 0.6


def dense_problem(
    requests: int, lots: int, seed: int = 1, categories: int = 3, max_km: float = 150.0
) -> MatchingProblem:
    """A reproducible dense day (see the module docstring for its shape)."""
    if not 1 <= categories <= len(CATEGORY_SHARE):
        raise ValueError(f"categories: expected 1..{len(CATEGORY_SHARE)}, got {categories}")
    rng = np.random.default_rng(seed)
    n_towns = 24
    # Tunisia's bounding box; the north and the coast (lat > 34.5) hold most people.
    town_lat = np.r_[rng.uniform(34.5, 37.3, 18), rng.uniform(30.5, 34.5, 6)]
    town_lon = np.r_[rng.uniform(8.5, 11.2, 18), rng.uniform(8.0, 11.0, 6)]
    town_w = rng.pareto(1.5, n_towns) + 1.0
    town_w /= town_w.sum()
    share = np.asarray(CATEGORY_SHARE[:categories])
    share = share / share.sum()

    def around(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        town = rng.choice(n_towns, size=n, p=town_w)
        lat = np.clip(town_lat[town] + rng.normal(0.0, 1.0, n), 30.2, 37.4)
        lon = np.clip(town_lon[town] + rng.normal(0.0, 1.1, n), 7.6, 11.6)
        return lat, lon, town

    r_lat, r_lon, r_town = around(requests)
    r_cat = rng.choice(categories, size=requests, p=share)
    r_qty = rng.integers(1, 5, requests)
    r_pri = rng.integers(1, 6, requests)
    r_age = rng.integers(0, 45, requests)
    s_lat, s_lon, _ = around(lots)
    s_cat = rng.choice(categories, size=lots, p=share)
    # Lot sizes scaled so each category's stock is SUPPLY_RATIO of its demand.
    s_qty = np.ones(lots, dtype=np.int64)
    for c in range(categories):
        mine = np.flatnonzero(s_cat == c)
        demand = int(r_qty[r_cat == c].sum())
        if len(mine):
            mean = max(1.0, SUPPLY_RATIO * demand / len(mine))
            s_qty[mine] = np.maximum(1, rng.poisson(mean, len(mine)))
    needs = tuple(
        Need(
            f"R{j}",
            f"c{r_cat[j]}",
            int(r_qty[j]),
            float(r_lat[j]),
            float(r_lon[j]),
            f"T{r_town[j]:02d}",
            int(r_pri[j]),
            DAY - timedelta(days=int(r_age[j])),
        )
        for j in range(requests)
    )
    supply = tuple(
        Lot(f"S{i}", f"c{s_cat[i]}", int(s_qty[i]), float(s_lat[i]), float(s_lon[i]))
        for i in range(lots)
    )
    weights = {f"c{c}": 1.0 + 2.0 * c for c in range(categories)}
    return MatchingProblem(DAY, supply, needs, weights, max_km)


def plain_flow_value(problem: MatchingProblem) -> tuple[float, int]:
    """V of one plain min-cost flow over every eligible pair (value only), and the pairs.

    The reference the exact allocation must equal and should beat in time. It
    assumes what :func:`dense_problem` produces (no expiry, no restriction).
    """
    from ortools.graph.python import min_cost_flow

    from matching.value import scaled_values

    lots, needs = problem.lots, problem.needs
    pri = np.array([n.priority for n in needs], dtype=np.int64)
    age = np.array([min(max((problem.date - n.filed).days, 0), 30) for n in needs])
    value = scaled_values(pri, age, problem.priority_weights)
    value_f = np.array([problem.value_per_unit(n) for n in needs])
    total = 0.0
    pairs = 0
    for cat in sorted({n.category for n in needs}):
        s = np.array([i for i, x in enumerate(lots) if x.category == cat], dtype=np.int64)
        r = np.array([j for j, x in enumerate(needs) if x.category == cat], dtype=np.int64)
        if len(s) == 0:
            continue
        s_lat = np.array([lots[i].lat for i in s])
        s_lon = np.array([lots[i].lon for i in s])
        r_lat = np.array([needs[j].lat for j in r])
        r_lon = np.array([needs[j].lon for j in r])
        u_s, u_r = unit_vectors(s_lat, s_lon), unit_vectors(r_lat, r_lon)
        loose = 1.0 - chord_for_km(problem.max_distance_km * 1.001) ** 2 / 2.0
        tails, heads = [], []
        step = max(1, 4_000_000 // len(s))
        for lo in range(0, len(r), step):
            rr, ss = np.nonzero(u_r[lo : lo + step] @ u_s.T >= loose)
            rr += lo
            km = great_circle_km(s_lat[ss], s_lon[ss], r_lat[rr], r_lon[rr])
            keep = km <= problem.max_distance_km
            tails.append(ss[keep])
            heads.append(rr[keep])
        t = np.concatenate(tails).astype(np.int64)
        h = np.concatenate(heads).astype(np.int64)
        pairs += len(t)
        n_s, n_r = len(s), len(r)
        s_qty = np.array([lots[i].quantity for i in s], dtype=np.int64)
        r_qty = np.array([needs[j].quantity for j in r], dtype=np.int64)
        sink = n_s + n_r
        mcf = min_cost_flow.SimpleMinCostFlow()
        arcs = mcf.add_arcs_with_capacity_and_unit_cost(
            np.r_[t, n_s + np.arange(n_r), np.arange(n_s)],
            np.r_[n_s + h, np.full(n_r, sink), np.full(n_s, sink)],
            np.r_[np.minimum(s_qty[t], r_qty[h]), r_qty, s_qty],
            np.r_[np.zeros(len(t), np.int64), -value[r], np.zeros(n_s, np.int64)],
        )
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[:n_s] = s_qty
        supplies[sink] = -int(s_qty.sum())
        mcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
        if mcf.solve() != mcf.OPTIMAL:
            raise RuntimeError(f"plain flow failed on category {cat}")
        flows = np.asarray(mcf.flows(arcs))[len(t) : len(t) + n_r]  # need -> sink
        total += float(np.sum(value_f[r] * flows))
    return total, pairs


def _peak_mb() -> float:
    """Peak RSS of this process and of its (finished) children, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def child(requests: int, lots: int, seed: int, workers: int, reference: bool) -> dict:
    """One measurement in this (fresh) process: allocation, then the plain flow."""
    problem = dense_problem(requests, lots, seed)
    gc.collect()
    executor: Executor | None = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        started = time.perf_counter()
        if "executor" in inspect.signature(solve).parameters:
            result = solve(problem, MatchingParams(), executor=executor)
        else:  # the solver before concurrency was injected (before/after comparisons)
            result = solve(problem, MatchingParams(workers=workers, parallel_min_needs=0))
        solve_s = time.perf_counter() - started
    finally:
        if executor is not None:
            executor.shutdown()
    row = {
        "requests": requests,
        "lots": lots,
        "seed": seed,
        "workers": workers,
        "solve_s": solve_s,
        "peak_mb": _peak_mb(),
        "value": result.metrics.allocated_value,
        "effort": result.metrics.effort_kg_km,
        "pairs": result.metrics.eligible_pairs,
        "arcs": result.metrics.candidate_arcs,
        "rounds": result.metrics.pricing_rounds,
    }
    if reference:
        started = time.perf_counter()
        row["plain_value"], row["plain_pairs"] = plain_flow_value(problem)
        row["plain_s"] = time.perf_counter() - started
        row["exact"] = bool(abs(row["plain_value"] - row["value"]) <= 1e-9 * row["value"])
    return row


def measure(
    requests: int, lots: int, seed: int, workers: int, reference: bool, repeats: int
) -> dict:
    """Median of ``repeats`` fresh-process measurements."""
    runs = []
    for _ in range(repeats):
        cmd = [sys.executable, "-m", "bench.dense_days", "--child", "--requests", str(requests)]
        cmd += ["--lots", str(lots), "--seed", str(seed), "--workers", str(workers)]
        cmd += [] if reference else ["--no-reference"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    row = dict(runs[0])
    for key in ("solve_s", "peak_mb", "plain_s"):
        if key in row:
            row[key] = statistics.median(r[key] for r in runs)
            row[key + "_all"] = [round(r[key], 2) for r in runs]
    row["repeats"] = repeats
    row["same_value"] = len({r["value"] for r in runs}) == 1
    return row


def render(rows: list[dict], seed: int, workers: int) -> str:
    """The BENCHMARKS.md section of dense days."""
    lines = [
        f"<!-- {SECTION}:start -->",
        "## Allocation on dense days (`python -m bench.dense_days`)",
        "",
        f"Machine: {machine()}. Date: {date.today().isoformat()}. Commit: {commit()}. Dense days "
        f"(`bench/dense_days.py`, seed {seed}: 3 categories 70/20/10 %, lots at their own "
        f"coordinates, 150 km), allocation only, `--workers {workers}`. Medians of fresh "
        "processes; peak = max RSS of the process and its workers. Plain flow = one "
        "OR-Tools min-cost flow over every eligible pair, value only (the exactness check).",
        "",
        "| requests × lots | eligible pairs | allocation s | peak MB | arcs in model "
        "| pricing rounds | plain flow s | V = plain flow V |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        plain = f"{r['plain_s']:.2f}" if "plain_s" in r else "not run"
        exact = ("yes" if r["exact"] else "NO") if "exact" in r else "—"
        lines.append(
            f"| {r['requests']:,} × {r['lots']:,} | {r['pairs']:,} | {r['solve_s']:.2f} "
            f"| {r['peak_mb']:.0f} | {r['arcs']:,} | {r['rounds']} | {plain} | {exact} |"
        )
    lines += ["", f"<!-- {SECTION}:end -->"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dense_days", description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--lots", type=int, default=2_000)
    parser.add_argument("--sizes", help="comma-separated sizes from " + ",".join(SIZES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-reference", action="store_true", help="skip the plain flow")
    parser.add_argument("--out", type=Path, help="replace the dense-days section of this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        row = child(args.requests, args.lots, args.seed, args.workers, not args.no_reference)
        print(json.dumps(row))
        return 0
    if args.sizes:
        unknown = [s for s in args.sizes.split(",") if s not in SIZES]
        if unknown:
            parser.error(f"--sizes: unknown size {unknown[0]!r} (known: {', '.join(SIZES)})")
        todo = [SIZES[s] for s in args.sizes.split(",")]
    else:
        todo = [(args.requests, args.lots)]
    rows = []
    for requests, lots in todo:
        # The plain flow over every pair does not fit beyond ~50 M pairs.
        reference = not args.no_reference and requests * lots <= 250_000_000
        row = measure(requests, lots, args.seed, args.workers, reference, args.repeats)
        rows.append(row)
        plain = (
            f"plain flow {row['plain_s']:.2f} s (V {row['plain_value']:.2f}), "
            f"exact: {'yes' if row['exact'] else 'NO'}"
            if "plain_s" in row
            else "plain flow not run"
        )
        print(
            f"{requests:,} x {lots:,}: allocation {row['solve_s']:.2f} s "
            f"(runs {row['solve_s_all']}), peak {row['peak_mb']:.0f} MB, "
            f"V {row['value']:.2f}, {row['pairs']:,} eligible pairs, {row['arcs']:,} arcs, "
            f"{row['rounds']} rounds; {plain}",
            flush=True,
        )
    if args.out:
        write_section(args.out, render(rows, args.seed, args.workers), SECTION)
    return 0 if all(r.get("exact", True) for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
