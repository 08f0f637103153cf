"""The ``jessr`` command line.

Exit status: 0 success, 2 invalid input (the message names record, id and
field; nothing is written), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from engine.scenario.errors import ScenarioError

EXIT_INVALID = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jessr`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "bench-routing":
        # Its command line is a stable contract of its own; hand it the rest verbatim.
        from engine.bench.routing_bench import main as bench_routing

        return bench_routing(args[1:])
    parser = _parser()
    ns = parser.parse_args(args)
    try:
        return int(ns.func(ns))
    except ScenarioError as exc:
        print(f"jessr: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"jessr: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("jessr: interrupted, nothing written", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jessr", description="Jessr: optimal, fair and traceable aid dispatch."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("solve", help="solve a scenario file into a plan file (no database)")
    p.add_argument("scenario", help="scenario JSON (exchange format v1)")
    p.add_argument("-o", "--output", required=True, help="plan JSON to write")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument(
        "--time-limit",
        type=_positive_float,
        default=30.0,
        metavar="S",
        help="seconds for the whole solve (default 30)",
    )
    budget.add_argument(
        "--iterations",
        type=positive_int,
        default=None,
        metavar="N",
        help="bound routing by N iterations instead of time (instead of --time-limit): "
        "the same scenario, seed and N give the byte-identical plan, with any --workers",
    )
    p.add_argument("--seed", type=int, default=0, help="routing seed (default 0)")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=2,
        help="cores to use: processes for independent parts, or VROOM's search "
        "threads when the day is routed in one piece (default 2)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no summary, no progress")
    p.set_defaults(func=_cmd_solve)

    g = sub.add_parser("generate", help="generate a realistic Tunisian day as a scenario")
    g.add_argument("--requests", type=nonnegative_int, required=True)
    g.add_argument("--supplies", type=nonnegative_int, required=True)
    g.add_argument("--volunteers", type=nonnegative_int, default=0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--date", default="2026-11-28", help="plan date YYYY-MM-DD")
    g.add_argument("-o", "--output", required=True, help="scenario JSON to write")
    g.set_defaults(func=_cmd_generate)

    c = sub.add_parser("check", help="check a plan against its scenario (the spec's rules)")
    c.add_argument("scenario")
    c.add_argument("plan")
    c.set_defaults(func=_cmd_check)

    sub.add_parser(
        "bench-routing",
        help="routing benchmark runner: FILE... --time-limit S [--solver NAME] (JSON lines)",
    )
    return parser


def _cmd_solve(ns: argparse.Namespace) -> int:
    from engine.progress import Progress
    from engine.reference import regions
    from engine.scenario.reader import load_scenario
    from engine.scenario.writer import plan_to_dict, write_json_atomic
    from engine.solve import solve_scenario
    from engine.summary import summarize

    scenario = load_scenario(ns.scenario)
    out = Path(ns.output)
    if out.is_dir():
        raise ScenarioError(f"{out}: output is a directory, expected a plan file path")
    if ns.quiet:
        outcome = solve_scenario(
            scenario,
            time_limit=ns.time_limit,
            seed=ns.seed,
            workers=ns.workers,
            iterations=ns.iterations,
        )
    else:
        with Progress() as progress:
            outcome = solve_scenario(
                scenario,
                time_limit=ns.time_limit,
                seed=ns.seed,
                workers=ns.workers,
                stage=progress.stage,
                iterations=ns.iterations,
            )
    write_json_atomic(plan_to_dict(outcome.plan), out)
    if not ns.quiet:
        names = {code: r.names.get("en", code) for code, r in regions("TN").items()}
        print(summarize(scenario, outcome, names))
        print(f"Plan written to {out} ({outcome.seconds:.1f} s)")
    return 0


def _cmd_generate(ns: argparse.Namespace) -> int:
    from datetime import date

    from engine.generate import generate_scenario
    from engine.scenario.writer import write_json_atomic

    try:
        day = date.fromisoformat(ns.date)
    except ValueError as exc:
        raise ScenarioError(f"--date: expected YYYY-MM-DD, got {ns.date!r}") from exc
    doc = generate_scenario(
        requests=ns.requests,
        supplies=ns.supplies,
        volunteers=ns.volunteers,
        seed=ns.seed,
        day=day,
    )
    write_json_atomic(doc, ns.output)
    print(
        f"Wrote {ns.output}: {ns.requests} requests, {ns.supplies} supply lots, "
        f"{ns.volunteers} volunteers (seed {ns.seed})"
    )
    return 0


def _cmd_check(ns: argparse.Namespace) -> int:
    from engine.checker import check_plan
    from engine.scenario.reader import load_scenario
    from engine.scenario.writer import load_plan

    report = check_plan(load_scenario(ns.scenario), load_plan(ns.plan))
    print(json.dumps({"valid": report.valid, **report.metrics}, indent=1))
    for v in report.violations[:50]:
        print(v, file=sys.stderr)
    if len(report.violations) > 50:
        print(f"… {len(report.violations) - 50} more violations", file=sys.stderr)
    return 0 if report.valid else 1


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1, with a message naming the bad value."""
    value = nonnegative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a positive integer, got 0")
    return value


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0, with a message naming the bad value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
