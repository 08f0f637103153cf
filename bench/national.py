"""A national day end to end (``jessr solve`` as a user runs it).

    python -m bench.national --out BENCHMARKS.md [--time-limit 300]

Generates a day (50,000 requests, 5,000 lots, 2,000 volunteers by default),
runs ``jessr solve`` in a child process while sampling the resident memory of
the whole process tree (the solver and its worker processes, summed), then
checks the plan with the independent checker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.report import machine, markers, write_section

SECTION = "national"


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc (MB)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        pid = int(entry)
        parent[pid] = int(fields.get("PPid", "0").strip())
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        total += rss.get(pid, 0)
        frontier.extend(child for child, p in parent.items() if p == pid)
    return total / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.national")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--supplies", type=int, default=5_000)
    parser.add_argument("--volunteers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from engine.checker import check_plan
    from engine.generate import generate_scenario
    from engine.scenario.reader import load_scenario
    from engine.scenario.writer import load_plan, write_json_atomic

    folder = Path("out/bench-national")
    folder.mkdir(parents=True, exist_ok=True)
    day_path, plan_path = folder / "day.json", folder / "plan.json"
    write_json_atomic(
        generate_scenario(
            requests=args.requests,
            supplies=args.supplies,
            volunteers=args.volunteers,
            seed=args.seed,
            day=date(2026, 11, 28),
        ),
        day_path,
    )
    jessr = Path(sys.executable).with_name("jessr")
    command = [
        str(jessr),
        "solve",
        str(day_path),
        "-o",
        str(plan_path),
        "--time-limit",
        f"{args.time_limit:g}",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        time.sleep(0.5)
    wall = time.perf_counter() - started
    summary = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        print(summary, file=sys.stderr)
        return proc.returncode
    report = check_plan(load_scenario(day_path), load_plan(plan_path))
    plan = load_plan(plan_path)
    reasons: dict[str, int] = {}
    for u in plan["unrouted"]:
        reasons[u["reason"]] = reasons.get(u["reason"], 0) + 1
    row = {
        "wall_s": wall,
        "peak_tree_mb": peak,
        "valid": report.valid,
        "violations": len(report.violations),
        "allocated": report.allocated_value,
        "delivered": report.delivered_value,
        "route_km": report.route_km,
        "allocations": len(plan["allocations"]),
        "volunteers_used": len(plan["routes"]),
        "unrouted": reasons,
    }
    print(json.dumps(row))
    start, end = markers(SECTION)
    section = "\n".join(
        [
            start,
            "## A national day end to end",
            "",
            f"Machine: {machine()}. Date: {date.today().isoformat()}. "
            f"`jessr generate --requests {args.requests} --supplies {args.supplies} "
            f"--volunteers {args.volunteers} --seed {args.seed}`, then `jessr solve "
            f"--time-limit {args.time_limit:g}` (default 2 workers). Peak memory is the "
            "resident set of the solver and its worker processes summed, sampled every 0.5 s.",
            "",
            "| wall s | peak MB (process tree) | plan valid (checker) | allocations "
            "| V allocated | D delivered | D/V | volunteers used | road km | unrouted by reason |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {wall:.1f} | {peak:.0f} | {'yes' if report.valid else 'NO'} "
            f"| {row['allocations']:,} | {report.allocated_value:.1f} "
            f"| {report.delivered_value:.1f} "
            f"| {report.delivered_value / max(report.allocated_value, 1e-9):.1%} "
            f"| {row['volunteers_used']:,} of {args.volunteers:,} | {report.route_km:.0f} "
            f"| {', '.join(f'{k} {v:,}' for k, v in sorted(reasons.items()))} |",
            "",
            "Target: within 6 minutes and < 6 GB at `--time-limit 300`.",
            end,
        ]
    )
    write_section(args.out, section + "\n", SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
