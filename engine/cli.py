"""The ``jessr`` command line.

Exit status: 0 success, 2 invalid input (nothing is written), 1 an unexpected
failure.

Invalid input is reported on stderr, one problem per line, each ``jessr: `` and the
problem naming record, id and field; the first line is the first problem of the file
(``jessr: requests[17] (id "R18"): quantity must be a positive integer, got -3``).
A file with several problems lists up to 20 of them, then ``jessr: … and N more
errors``. A bad command-line argument is one line too (``jessr: --time-limit: …``);
``jessr COMMAND --help`` shows the usage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import typing
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from engine.errors import JessrError
from engine.scenario.errors import ScenarioError

EXIT_INVALID = 2
# A day's solve takes seconds to minutes; a day (86,400 s) bounds any real use.
# Larger values (1e308) would silently mean "no limit", and inf breaks the deadline
# arithmetic of the solvers.
MAX_TIME_LIMIT = 86400.0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jessr`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "bench-routing":
        return _bench_routing(args[1:])
    parser = _parser()
    try:
        ns = parser.parse_args(args)
    except UsageError as exc:
        print(f"jessr: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        return int(ns.func(ns))
    except ScenarioError as exc:
        for line in exc.lines():
            print(f"jessr: {line}", file=sys.stderr)
        return EXIT_INVALID
    except JessrError as exc:  # the platform's errors carry their exit status
        print(f"jessr: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"jessr: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("jessr: interrupted, nothing written", file=sys.stderr)
        return 130


def _bench_routing(args: list[str]) -> int:
    """``jessr bench-routing``: the benchmark runner of a development checkout.

    The harness lives in the top-level ``bench/`` folder, which the wheel does not
    ship (a developer tool, not the product); an editable install of the checkout
    puts it on the path. Its command line is a stable contract of its own, so the
    arguments are handed over verbatim.
    """
    try:
        from bench.routing_bench import main as bench_routing
    except ModuleNotFoundError as exc:
        if exc.name in ("bench", "bench.routing_bench"):
            why = "needs a development checkout (the bench/ folder is not installed)"
        else:  # the harness is there, one of its dependencies is not
            why = f"needs the bench dependencies (pip install -e '.[bench]'): {exc}"
        print(f"jessr bench-routing: {why}", file=sys.stderr)
        return EXIT_INVALID
    return bench_routing(args)


class UsageError(Exception):
    """A bad command line: reported in one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (``jessr: --flag: why``), not a usage dump."""

    def error(self, message: str) -> typing.NoReturn:
        raise UsageError(message.removeprefix("argument "))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jessr", description="Jessr: optimal, fair and traceable aid dispatch.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("solve", help="solve a scenario file into a plan file (no database)")
    p.add_argument("scenario", help="scenario JSON (exchange format v1)")
    p.add_argument("-o", "--output", required=True, help="plan JSON to write")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument(
        "--time-limit",
        type=time_limit,
        default=30.0,
        metavar="S",
        help=f"seconds for the whole solve, at most {MAX_TIME_LIMIT:.0f} (default 30)",
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
    p.add_argument(
        "--broker",
        metavar="URL",
        default=None,
        help="send the parts to `jessr worker` processes on this Redis broker "
        "(default: JESSR_BROKER_URL if set, else in-process)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no summary, no progress")
    p.set_defaults(func=_cmd_solve)

    g = sub.add_parser("generate", help="generate a realistic Tunisian day as a scenario")
    g.add_argument("--requests", type=nonnegative_int, required=True)
    g.add_argument("--supplies", type=nonnegative_int, required=True)
    g.add_argument("--volunteers", type=nonnegative_int, default=0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--date", type=iso_date, default=date(2026, 11, 28), help="plan date YYYY-MM-DD")
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
    from engine.commands import register_all

    register_all(sub)  # the platform's commands, one module each in engine/commands/
    return parser


def _cmd_solve(ns: argparse.Namespace) -> int:
    from engine.config import broker_url
    from engine.executors import for_workers, scale_out_line, solver_executor
    from engine.params import DayParams
    from engine.progress import Progress
    from engine.reference import regions
    from engine.scenario.reader import load_scenario
    from engine.scenario.writer import plan_to_dict, write_json_atomic
    from engine.solve import solve_scenario
    from engine.summary import summarize

    out = Path(ns.output)
    if out.is_dir():
        raise ScenarioError(f"{out}: output is a directory, expected a plan file path")
    if _same_file(ns.scenario, out):
        raise ScenarioError(f"{out}: output is the scenario file itself; choose another -o path")
    try:
        params = DayParams(
            time_limit=ns.time_limit, iterations=ns.iterations, seed=ns.seed, workers=ns.workers
        )
    except ValueError as exc:  # the message starts with the field, the flag's name
        field, _, why = str(exc).partition(":")
        raise ScenarioError(f"--{field.replace('_', '-')}:{why}") from None
    scenario = load_scenario(ns.scenario)
    # Only the broker's setting: a file solve reads no other platform setting.
    broker = broker_url(ns.broker, "--broker") or broker_url(
        os.environ.get("JESSR_BROKER_URL") or None, "JESSR_BROKER_URL"
    )
    # The pool first: the progress display is a thread, and no pool is
    # forked while another thread runs (engine.executors).
    with solver_executor(
        ns.workers, broker_url=broker, routing=bool(scenario.volunteers)
    ) as execution:
        executor = execution.executor
        params = for_workers(params, execution.workers, remote=bool(broker))
        if ns.quiet:
            outcome = solve_scenario(scenario, params, executor=executor)
        else:
            with Progress() as progress:
                outcome = solve_scenario(
                    scenario, params, executor=executor, progress=progress.stage
                )
        report = execution.final_report()
    write_json_atomic(plan_to_dict(outcome.plan), out)
    if broker and not ns.quiet:
        print(scale_out_line(report))
    if not ns.quiet:
        names = {code: r.names.get("en", code) for code, r in regions("TN").items()}
        print(summarize(scenario, outcome, names))
        print(f"Plan written to {out} ({outcome.seconds:.1f} s)")
    return 0


def _cmd_generate(ns: argparse.Namespace) -> int:
    from engine.generate import generate_scenario
    from engine.scenario.writer import write_json_atomic

    doc = generate_scenario(
        requests=ns.requests,
        supplies=ns.supplies,
        volunteers=ns.volunteers,
        seed=ns.seed,
        day=ns.date,
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


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name one file (links included), or one path if absent."""
    try:
        try:
            return os.path.samefile(a, b)
        except OSError:  # one of them does not exist (yet): compare where they would be
            return Path(a).resolve() == Path(b).resolve()
    except (OSError, ValueError):  # e.g. an embedded NUL: the read reports the path
        return False


def time_limit(text: str) -> float:
    """argparse type: seconds, a finite number > 0 and at most :data:`MAX_TIME_LIMIT`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_TIME_LIMIT):
        raise argparse.ArgumentTypeError(
            f"expected seconds > 0 and at most {MAX_TIME_LIMIT:.0f}, got {text!r}"
        )
    return value


def iso_date(text: str) -> date:
    """argparse type: a date ``YYYY-MM-DD`` that exists."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


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
