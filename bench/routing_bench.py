"""``jessr bench-routing``: run solvers on benchmark instances, one JSON line per run.

Usage (the stable CLI; ``main`` takes the arguments after ``bench-routing``)::

    jessr bench-routing FILE... --time-limit S [--solver jessr|pyvrp|vroom|ortools]...

``--solver`` may be repeated or given a comma list; the default is all four, run one
after another in this process. Every (instance, solver) run prints one JSON object on
stdout with at least the keys ``instance``, ``solver``, ``vehicles``, ``distance``,
``feasible``, ``gap_pct``, ``seconds``, ``routes``. ``feasible``, ``distance`` and
``vehicles`` come from :mod:`bench.feasibility`, never from the solver; a solver
that crashes or finds nothing yields ``feasible: false`` with an ``error`` key. A file
that does not exist or cannot be read exits with status 2 before anything runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from bench.feasibility import check_solution
from bench.instances import Instance, InstanceError, read_instance
from bench.peers import SOLVERS, Objective, solve_with

PROG = "jessr bench-routing"


def run_one(
    instance: Instance,
    solver: str,
    time_limit: float,
    seed: int = 0,
    objective: Objective = "hierarchical",
) -> dict[str, Any]:
    """Solve ``instance`` with ``solver`` and score it with the runner's own checker.

    Never raises for a solver failure: the row then has ``feasible: false``, null
    distance/vehicles and an ``error`` message.
    """
    row: dict[str, Any] = {
        "instance": instance.name,
        "solver": solver,
        "vehicles": None,
        "distance": None,
        "feasible": False,
        "gap_pct": None,
        "seconds": None,
        "routes": [],
        "family": instance.family,
        "bks_vehicles": instance.bks_vehicles,
        "bks_distance": instance.bks_distance,
        "time_limit": time_limit,
    }
    started = time.perf_counter()
    try:
        with _stdout_to_stderr():
            result = solve_with(solver, instance, time_limit, seed, objective)
    except Exception as exc:  # any solver failure is a result row, not a traceback
        row["seconds"] = round(time.perf_counter() - started, 3)
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    row["seconds"] = round(time.perf_counter() - started, 3)
    routes = [list(r) for r in result.routes if r]
    check = check_solution(instance, routes)
    row.update(
        vehicles=check.vehicles,
        distance=round(check.distance, 4),
        feasible=check.feasible,
        routes=routes,
    )
    # A gap is only meaningful for a solution that counts; an infeasible one would look
    # better than the BKS simply by skipping customers.
    if check.feasible and instance.bks_distance:
        gap = round(100.0 * (check.distance / instance.bks_distance - 1.0), 3)
        row["gap_pct"] = gap + 0.0  # + 0.0 turns -0.0 into 0.0
    if check.violations:
        row["violations"] = list(check.violations)
    if not routes:
        row["error"] = "solver returned no routes"
    if result.info:
        row["solver_info"] = result.info
    return row


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send anything a solver prints (C++ included) to stderr: stdout is the JSON stream."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # pytest capture or a StringIO
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    saved = os.dup(fd)
    try:
        os.dup2(sys.stderr.fileno(), fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)


def parse_solvers(values: Sequence[str] | None) -> list[str]:
    """Flatten repeated/comma-separated ``--solver`` values; default: all, in SOLVERS order."""
    if not values:
        return list(SOLVERS)
    out: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in SOLVERS:
                raise ValueError(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}")
            if name not in out:
                out.append(name)
    return out or list(SOLVERS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the bench-routing options to ``parser`` (for wiring as a CLI subcommand)."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="instance files")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds per (instance, solver) run (default 10)",
    )
    parser.add_argument(
        "--solver",
        action="append",
        metavar="NAME",
        help=f"solver(s) to run, repeatable or comma list: {', '.join(SOLVERS)} (default all)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--objective",
        choices=("hierarchical", "distance"),
        default="hierarchical",
        help="hierarchical (vehicles, then distance; the BKS objective) or distance only",
    )


def build_parser() -> argparse.ArgumentParser:
    """The standalone parser (``python -m bench.routing_bench``)."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run parsed arguments; print JSON lines to ``out`` (stdout); return the exit status."""
    out = out or sys.stdout
    try:
        solvers = parse_solvers(args.solver)
        if not (args.time_limit > 0 and math.isfinite(args.time_limit)):
            raise ValueError(f"--time-limit must be > 0 seconds, got {args.time_limit}")
        # Read everything first: a typo in the last path must not cost an hour of solving.
        instances = [read_instance(f) for f in args.files]
    except (InstanceError, ValueError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    for instance in instances:
        for solver in solvers:
            row = run_one(instance, solver, args.time_limit, args.seed, args.objective)
            print(json.dumps(row), file=out, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``argv`` are the arguments after ``bench-routing``; returns exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
