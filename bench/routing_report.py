"""Routing benchmark report: run a subset of the shared suite, write a BENCHMARKS.md section.

Usage::

    python -m bench.routing_report BENCH_DIR --out BENCHMARKS.md \\
        [--time-limit S] [--subset quick|full] [--solver NAME]... [--raw FILE.jsonl]
    python -m bench.routing_report --from-jsonl FILE.jsonl --out BENCHMARKS.md

The section between ``<!-- routing:start -->`` and ``<!-- routing:end -->`` is replaced
(the file is created if missing; everything outside the markers is left as is). Raw JSON
lines (one per run, the ``bench-routing`` format) go to ``--raw`` (default
``out/bench-routing/<UTC timestamp>.jsonl``) so a table can be re-rendered or audited
later with ``--from-jsonl``.

Subsets. The whole suite (176 Li & Lim + 56 Solomon + 5 X) × 4 solvers is ~950 runs,
about 2.7 h at 10 s each — too long for a shared 2-core box, so the default ``quick``
subset (:data:`QUICK`) keeps 19 instances, ~13 min at 10 s:

* Li & Lim 100: the first instance of each class (lc101, lc201, lr101, lr201, lrc101,
  lrc201) — the ``*01`` ones have the tightest windows in their class and all six have
  BKS route files the checker is tested against;
* Li & Lim 200/400: lc1_2_1, lr1_2_1 and lr1_4_1, to see scaling (~210 and ~420 pairs);
* Solomon: C101, C201, R101, R201, RC101, RC105, RC201 — one tight (type 1) and one
  long-horizon (type 2) instance per class, plus RC105, whose BKS is notoriously hard
  to match on vehicles;
* X: X-n101-k25, X-n200-k36, X-n401-k29 (X-n801/X-n1001 need far more than 10 s to say
  anything and are left to ``full``).

``full`` runs every instance found under BENCH_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.instances import InstanceError, read_instance
from bench.peers import SOLVERS
from bench.report import machine, markers, write_section
from bench.routing_bench import parse_solvers, run_one

SECTION = "routing"
START, END = markers(SECTION)

QUICK: tuple[str, ...] = (
    "lc101",
    "lc201",
    "lr101",
    "lr201",
    "lrc101",
    "lrc201",
    "lc1_2_1",
    "lr1_2_1",
    "lr1_4_1",
    "C101",
    "C201",
    "R101",
    "R201",
    "RC101",
    "RC105",
    "RC201",
    "X-n101-k25",
    "X-n200-k36",
    "X-n401-k29",
)
FAMILY_TITLES = {"lilim": "Li & Lim PDPTW", "solomon": "Solomon VRPTW", "x": "CVRPLIB X"}


def find_instances(bench_dir: Path) -> dict[str, Path]:
    """Map instance name (case-folded file stem) to its file, for every instance under a dir."""
    found: dict[str, Path] = {}
    # os.walk with followlinks: a bench folder assembled from symlinks must work too
    # (Path.rglob does not descend into symlinked folders before Python 3.13).
    for root, dirs, names in os.walk(bench_dir, followlinks=True):
        dirs.sort()
        if "bks_solutions" in Path(root).parts:
            continue  # route files, not instances
        for name in sorted(names):
            path = Path(root) / name
            if path.suffix.lower() in (".txt", ".vrp") and name.upper() != "README.TXT":
                found.setdefault(path.stem.casefold(), path)
    return found


def select(bench_dir: Path, subset: str) -> tuple[list[Path], list[str]]:
    """Files of the chosen subset, in report order; plus names of the subset not found."""
    available = find_instances(bench_dir)
    if subset == "full":
        return list(available.values()), []
    files, missing = [], []
    for name in QUICK:
        path = available.get(name.casefold())
        if path is None:
            missing.append(name)
        else:
            files.append(path)
    return files, missing


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


GAP_STEPS = (0.5, 1.0, 2.0)  # the targets: Li & Lim 100, Li & Lim 200/400 + Solomon, X


def _within(row: dict[str, Any], pct: float) -> bool:
    """Gap to the BKS at most ``pct`` %, at no more vehicles than the BKS (X: distance only)."""
    gap = row.get("gap_pct")
    if gap is None or gap > pct:
        return False
    if row.get("family") == "x" or row.get("bks_vehicles") is None:
        return True
    return row["vehicles"] <= row["bks_vehicles"]


# What bench.peers gives each solver (its CORES): the rows' own setting.
CORES_NOTE = (
    "each may use the machine's cores: Jessr runs a search per core "
    "(`routing.multistart`), VROOM a thread per core; PyVRP and OR-Tools are single-threaded"
)


def render(
    rows: Sequence[dict[str, Any]],
    meta: dict[str, str],
    section: str = SECTION,
    title: str = "Routing benchmarks",
) -> str:
    """The markdown section (markers included) for these result rows."""
    solvers = [s for s in SOLVERS if any(r["solver"] == s for r in rows)]
    start, end = markers(section)
    lines = [
        start,
        f"## {title}",
        "",
        "Generated by `python -m bench.routing_report` (do not edit by hand).",
        "",
        f"* Machine: {meta.get('machine', '?')}",
        f"* Date: {meta.get('date', '?')}",
        f"* Time limit: {meta.get('time_limit', '?')} s per (instance, solver), solvers run "
        f"one at a time; {meta.get('cores', CORES_NOTE)}",
        f"* Subset: {meta.get('subset', '?')}; objective: {meta.get('objective', '?')}",
        "* Vehicles, distance and feasibility are recomputed by the runner's own checker "
        "(`bench/feasibility.py`), not taken from the solvers: exact Euclidean for "
        "Li & Lim / Solomon, `nint` for X. Gap = distance vs the BKS distance, feasible runs "
        "only; the Li & Lim / Solomon BKS are hierarchical (vehicles first), so a run with "
        "more vehicles than the BKS can show a negative gap.",
        "",
        "### Summary per family",
        "",
        "| family | solver | runs | feasible | BKS vehicles reached | within 0.5 % | within 1 % "
        "| within 2 % | mean gap % | mean s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    families = [f for f in FAMILY_TITLES if any(r.get("family") == f for r in rows)]
    for fam in families:
        for solver in solvers:
            sub = [r for r in rows if r.get("family") == fam and r["solver"] == solver]
            if not sub:
                continue
            ok = [r for r in sub if r["feasible"]]
            reached = sum(
                1
                for r in ok
                if r.get("bks_vehicles") is not None and r["vehicles"] <= r["bks_vehicles"]
            )
            gaps = [r["gap_pct"] for r in ok if r.get("gap_pct") is not None]
            secs = [r["seconds"] for r in sub if r.get("seconds") is not None]
            within = " | ".join(str(sum(_within(r, t) for r in ok)) for t in GAP_STEPS)
            lines.append(
                f"| {FAMILY_TITLES[fam]} | {solver} | {len(sub)} | {len(ok)} | {reached} "
                f"| {within} | {_fmt(statistics.fmean(gaps) if gaps else None)} "
                f"| {_fmt(statistics.fmean(secs) if secs else None, 1)} |"
            )
    lines += head_to_head(rows, families)
    lines += [
        "",
        "### Per instance",
        "",
        "| instance | BKS veh | BKS distance | solver | veh | distance | gap % | feasible | s |",
        "|---|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    order = {s: i for i, s in enumerate(SOLVERS)}
    seen: list[str] = []
    for r in rows:
        if r["instance"] not in seen:
            seen.append(r["instance"])
    for name in seen:
        mine = [r for r in rows if r["instance"] == name]
        for r in sorted(mine, key=lambda r: order.get(r["solver"], 99)):
            feasible = _fmt(bool(r["feasible"]))
            if r.get("error"):
                feasible += " (error)"
            lines.append(
                f"| {name} | {_fmt(r.get('bks_vehicles'))} | {_fmt(r.get('bks_distance'))} "
                f"| {r['solver']} | {_fmt(r.get('vehicles'))} | {_fmt(r.get('distance'))} "
                f"| {_fmt(r.get('gap_pct'))} | {feasible} | {_fmt(r.get('seconds'), 1)} |"
            )
    lines += ["", end]
    return "\n".join(lines) + "\n"


TIE_TOLERANCE = 0.005  # distance units: the tables print two decimals


def _key(row: dict[str, Any]) -> tuple[float, float]:
    """Smaller is better: vehicles then distance (Li & Lim, Solomon), distance only (X)."""
    vehicles = float(row["vehicles"]) if row.get("family") != "x" else 0.0
    return (vehicles, float(row["distance"]))


def head_to_head(rows: Sequence[dict[str, Any]], families: Sequence[str]) -> list[str]:
    """Per family: on how many instances Jessr beats, ties or trails the best peer.

    The best peer of an instance is the best feasible run among the other
    solvers in ``rows`` (same objective as the BKS: vehicles first where the
    BKS is hierarchical). An infeasible Jessr run counts as behind.
    """
    peers_present = [s for s in SOLVERS if s != "jessr" and any(r["solver"] == s for r in rows)]
    if not peers_present or not any(r["solver"] == "jessr" for r in rows):
        return []
    lines = [
        "",
        "### Jessr against the best peer, instance by instance",
        "",
        f"Peers in this table: {', '.join(peers_present)}. Better = fewer vehicles, then "
        "less distance (X: less distance); tie = same vehicles and distance within "
        f"{TIE_TOLERANCE}.",
        "",
        "| family | instances | Jessr better | tie | Jessr behind | behind on |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for fam in families:
        names: list[str] = []
        for r in rows:
            if r.get("family") == fam and r["instance"] not in names:
                names.append(r["instance"])
        better = tie = behind = 0
        behind_on: list[str] = []
        for name in names:
            mine = [r for r in rows if r["instance"] == name]
            jessr = [r for r in mine if r["solver"] == "jessr"]
            peers = [r for r in mine if r["solver"] != "jessr" and r["feasible"]]
            if not jessr or not peers:
                continue
            best = min(_key(r) for r in peers)
            if not jessr[0]["feasible"]:
                behind += 1
                behind_on.append(f"{name} (infeasible)")
                continue
            own = _key(jessr[0])
            if own[0] == best[0] and abs(own[1] - best[1]) <= TIE_TOLERANCE:
                tie += 1
            elif own < best:
                better += 1
            else:
                behind += 1
                if own[0] > best[0]:
                    behind_on.append(f"{name} ({own[0]:.0f} vs {best[0]:.0f} veh)")
                else:
                    behind_on.append(f"{name} (+{100 * (own[1] / best[1] - 1):.2f} %)")
        lines.append(
            f"| {FAMILY_TITLES[fam]} | {better + tie + behind} | {better} | {tie} | {behind} "
            f"| {', '.join(behind_on) or '–'} |"
        )
    return lines


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a raw JSON-lines file (blank lines ignored)."""
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def run_suite(
    files: Iterable[Path],
    solvers: Sequence[str],
    time_limit: float,
    seed: int,
    objective: str,
    raw: Path | None,
) -> list[dict[str, Any]]:
    """Run every (file, solver) pair sequentially, appending each row to ``raw`` as it comes."""
    rows: list[dict[str, Any]] = []
    sink = None
    if raw is not None:
        raw.parent.mkdir(parents=True, exist_ok=True)
        sink = raw.open("a")
    try:
        for path in files:
            instance = read_instance(path)
            for solver in solvers:
                row = run_one(instance, solver, time_limit, seed, objective)  # type: ignore[arg-type]
                rows.append(row)
                if sink is not None:
                    sink.write(json.dumps(row) + "\n")
                    sink.flush()  # a long run that is interrupted keeps what it did
                print(
                    f"{instance.name:>12} {solver:<8} feasible={row['feasible']!s:<5} "
                    f"veh={row['vehicles']} dist={row['distance']} gap={row['gap_pct']} "
                    f"{row['seconds']}s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if sink is not None:
            sink.close()
    return rows


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the report."""
    p = argparse.ArgumentParser(
        prog="python -m bench.routing_report", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("bench_dir", nargs="?", type=Path, help="the shared benchmarks folder")
    p.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="markdown file")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per run (10)")
    p.add_argument("--subset", choices=("quick", "full"), default="quick")
    p.add_argument("--solver", action="append", metavar="NAME", help="default: all four")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--objective", choices=("hierarchical", "distance"), default="hierarchical")
    p.add_argument("--raw", type=Path, help="JSON-lines output (default out/bench-routing/…)")
    p.add_argument("--from-jsonl", type=Path, help="render from an earlier raw file, no solving")
    p.add_argument("--section", default=SECTION, help="BENCHMARKS.md section name (routing)")
    p.add_argument("--label", help="describe the instance set (default: the subset's name)")
    p.add_argument("--title", default="Routing benchmarks", help="the section's heading")
    p.add_argument(
        "--cores",
        default=CORES_NOTE,
        help="how the solvers used the cores, with --from-jsonl of older rows (default: today's)",
    )
    p.add_argument(
        "--machine", help="machine the rows were measured on, with --from-jsonl (default: this one)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 on bad arguments or a missing folder)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    meta = {
        "machine": args.machine or machine(),
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "time_limit": f"{args.time_limit:g}",
        "subset": args.label or args.subset,
        "objective": args.objective,
        "cores": args.cores,
    }
    if args.from_jsonl is not None:
        if not args.from_jsonl.is_file():
            print(f"error: {args.from_jsonl}: no such file", file=sys.stderr)
            return 2
        rows = read_jsonl(args.from_jsonl)
        limits = {r.get("time_limit") for r in rows}
        meta["time_limit"] = "/".join(f"{t:g}" for t in limits if t is not None) or "?"
        meta["date"] += f" (rendered from {args.from_jsonl.name})"
    else:
        if args.bench_dir is None or not args.bench_dir.is_dir():
            print(f"error: benchmark folder {args.bench_dir} not found", file=sys.stderr)
            return 2
        try:
            solvers = parse_solvers(args.solver)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        files, missing = select(args.bench_dir, args.subset)
        for name in missing:
            print(f"warning: {name} not found under {args.bench_dir}", file=sys.stderr)
        if not files:
            print(f"error: no instances found under {args.bench_dir}", file=sys.stderr)
            return 2
        raw = args.raw or Path("out/bench-routing") / f"{now:%Y%m%dT%H%M%SZ}.jsonl"
        print(
            f"{len(files)} instances x {len(solvers)} solvers x {args.time_limit:g} s; "
            f"raw rows -> {raw}",
            file=sys.stderr,
        )
        try:
            rows = run_suite(files, solvers, args.time_limit, args.seed, args.objective, raw)
        except InstanceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    write_section(args.out, render(rows, meta, args.section, args.title), args.section)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
