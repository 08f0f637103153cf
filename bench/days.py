"""Routing on generated Tunisian days: Jessr against PyVRP, VROOM and OR-Tools.

    python -m bench.days --out BENCHMARKS.md [--time-limit 20] [--seeds 1,2,3]

Every solver routes the *same* allocations (the exact matching of the day),
one at a time, with the same time limit and the same workers (``--workers``,
default 2 as in ``jessr solve``; VROOM searches with that many threads, alone
or in Jessr's split; PyVRP and OR-Tools are single-threaded): Jessr's portfolio,
and each backend alone (the same model, the same float re-verification).
Every plan is judged by the independent checker (:mod:`engine.checker`),
which recomputes delivered value D and road km itself. A second table compares
the plain two-stage plan with route-aware allocation (``jessr solve``'s default).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import routing
from bench.report import machine, markers, write_section
from engine.checker import check_plan
from engine.cli import positive_int
from engine.dispatch import plan_routes, routing_problem
from engine.executors import process_pool
from engine.generate import generate_scenario
from engine.params import DayParams
from engine.scenario.plan import Plan, Unrouted
from engine.scenario.reader import parse_scenario
from engine.solve import allocate, day_routing_params, solve_scenario

SECTION = "days"
SOLVERS = {
    "jessr": None,  # what `jessr solve` uses (engine.solve.day_routing_params)
    "pyvrp": ("pyvrp",),
    "vroom": ("vroom",),
    "ortools": ("ortools",),
}
# VROOM as a peer runs at its default exploration level (5, as its command
# line); Jessr's split picks the level by size and time
# (routing.backends.vroom_backend.exploration_level).
PEER_VROOM_EXPLORATION = 5


def route_with(
    scenario,
    allocation,
    backends: tuple[str, ...] | None,
    limit: float,
    seed: int,
    workers: int = 1,
) -> dict:
    """Route fixed allocations with the given backends (None: Jessr's); score with the checker."""
    dispatch = routing_problem(scenario, allocation.plan.allocations, allocation.values)
    params = (
        day_routing_params(limit, workers)
        if backends is None
        else routing.SolveParams(
            time_limit=limit,
            backends=backends,
            workers=workers,
            vroom_exploration=PEER_VROOM_EXPLORATION,
        )
    )
    started = time.perf_counter()
    with process_pool(workers) as executor:  # as `jessr solve --workers`
        result = routing.solve(dispatch.problem, params, seed=seed, executor=executor)
    seconds = time.perf_counter() - started
    plan = replace(
        allocation.plan,
        routes=plan_routes(dispatch, result.routes),
        unrouted=tuple(Unrouted(d.shipment, str(d.reason)) for d in result.dropped),
    )
    return _score(scenario, plan, seconds)


def _score(scenario, plan: Plan, seconds: float) -> dict:
    from engine.scenario.writer import plan_to_dict

    report = check_plan(scenario, plan_to_dict(plan))
    return {
        "valid": report.valid,
        "violations": len(report.violations),
        "delivered": report.delivered_value,
        "allocated": report.allocated_value,
        "km": report.route_km,
        "volunteers": len(plan.routes),
        "seconds": seconds,
    }


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    for seed in args.seeds:
        doc = generate_scenario(
            requests=args.requests,
            supplies=args.supplies,
            volunteers=args.volunteers,
            seed=seed,
            day=date(2026, 11, 28),
        )
        scenario = parse_scenario(doc)
        allocation = allocate(scenario)
        for name in args.solvers:
            row = {"seed": seed, "solver": name}
            row.update(
                route_with(scenario, allocation, SOLVERS[name], args.time_limit, seed, args.workers)
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
        for aware in (False, True):
            started = time.perf_counter()
            day = DayParams(
                time_limit=args.time_limit, seed=seed, workers=args.workers, route_aware=aware
            )
            with process_pool(args.workers) as executor:
                outcome = solve_scenario(scenario, day, executor=executor)
            row = {"seed": seed, "solver": "two-stage" if not aware else "route-aware"}
            row.update(_score(scenario, outcome.plan, time.perf_counter() - started))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def render(rows: list[dict], args: argparse.Namespace) -> str:
    start, end = markers(SECTION)
    seeds = sorted({r["seed"] for r in rows})
    out = [
        start,
        "## Routing on generated Tunisian days (`python -m bench.days`)",
        "",
        f"Machine: {machine()}. Date: {date.today().isoformat()}. Days: `jessr generate "
        f"--requests {args.requests} --supplies {args.supplies} --volunteers "
        f"{args.volunteers}`, seeds {', '.join(map(str, seeds))}. Each solver routes the "
        f"same exact allocations with `--time-limit {args.time_limit:g}` s and "
        f"{args.workers} worker(s), one at a time (VROOM searches with as many threads, "
        "alone or in Jessr's split; PyVRP and OR-Tools are single-threaded); `jessr` is "
        "the split `jessr solve` uses, the others are "
        "each backend alone through the same model and float re-verification "
        "(VROOM alone at its default exploration level 5; Jessr picks VROOM's level "
        "by size and time). "
        "D (delivered value) and km are recomputed by the "
        "independent checker; a plan the checker rejects counts as invalid.",
        "",
        "| seed | solver | valid | D delivered | of V allocated | road km | volunteers | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['seed']} | {r['solver']} | {'yes' if r['valid'] else 'NO'} "
            f"| {r['delivered']:.1f} | {r['allocated']:.1f} | {r['km']:.1f} "
            f"| {r['volunteers']} | {r['seconds']:.1f} |"
        )
    out += ["", "Medians over seeds:", ""]
    out += ["| solver | D | road km | km per unit of D |", "|---|---|---|---|"]
    for name in [*args.solvers, "two-stage", "route-aware"]:
        mine = [r for r in rows if r["solver"] == name]
        if not mine:
            continue
        d = statistics.median(r["delivered"] for r in mine)
        km = statistics.median(r["km"] for r in mine)
        out.append(f"| {name} | {d:.1f} | {km:.1f} | {km / d if d else 0:.3f} |")
    out.append(end)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.days")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 3])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--supplies", type=int, default=300)
    parser.add_argument("--volunteers", type=int, default=60)
    parser.add_argument(
        "--workers", type=positive_int, default=2, help="as `jessr solve --workers`"
    )
    parser.add_argument("--solvers", type=lambda s: s.split(","), default=list(SOLVERS))
    args = parser.parse_args(argv)
    rows = run(args)
    write_section(args.out, render(rows, args), SECTION)
    print(f"wrote the {SECTION} section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
