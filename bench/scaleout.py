"""Scale-out on Celery: a national day through 1 and 2 ``jessr worker`` processes,
and a worker-count model fitted to the measured parts.

    python -m bench.scaleout national --out BENCHMARKS.md [--iterations N]
    python -m bench.scaleout country --out BENCHMARKS.md [--sample 16]

``national`` generates the national day (50,000 requests, 5,000 lots, 2,000
volunteers), solves it bounded by iterations (so every run gives the same plan,
byte for byte, and "equal delivered value" holds by construction) in this
process, as ``jessr solve --broker`` does, once per configuration:

* ``pool-2``: no broker, today's process pool of 2 (the reference plan);
* ``celery-1`` / ``celery-2``: 1 or 2 ``jessr worker --concurrency 1``
  processes on the local Redis.

It records the wall time, the plan's SHA-256 and delivered value (independent
checker), the caller's peak resident memory and each worker pool process's
peak (sampled every 0.2 s from /proc), and every part's send and answer times.

**The model** (``predict``): a day is serial work in the caller (allocation
bookkeeping, feasibility, repair, assembly) plus phases of parts. From the
1-worker run, a phase is a run of parts each sent within ``PHASE_GAP`` of the
previous answer; the serial time is the wall time minus the time some part was
out. For ``W`` workers the predicted wall time is the serial time plus, per
phase, the makespan of greedy list scheduling of the phase's measured part
durations (send to answer, transfers included) on ``W`` machines, in the order
the solver submits them (it sends the next part as a worker frees, as this
schedule does). Separate hosts add, per part, its payload bytes over
``LINK_MB_S`` and ``RTT_S`` (assumed, not measured: the workers here share one
loopback). The measured 2-worker run checks the model.

``country`` is a day ten times larger (500,000 requests, 50,000 lots, 20,000
volunteers). Solving it whole is out of reach of this 2-core machine in a
session; what grows with it is measured instead: the caller's gathering steps
(allocation, alone feasibility, the partition) in time and memory, and a
sample of its routing parts sent to one worker, each part's time and the
worker's memory, against the same sample of the national day.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from bench.report import machine, markers, write_section

SECTION = "scaleout"
COUNTRY_SECTION = "scaleout-country"
FOLDER = Path("out/bench-scaleout")
REDIS_URL = os.environ.get("JESSR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PHASE_GAP = 0.5  # s between an answer and the next send that starts a new phase
LINK_MB_S = 117.0  # assumed 1 Gbit/s link between hosts (payload MB per s)
RTT_S = 0.001  # assumed round trip per message between hosts


# -- workers ---------------------------------------------------------------------


@dataclass
class WorkerSet:
    """``jessr worker --concurrency 1`` processes, each a stand-in for a host."""

    url: str
    count: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    peaks: dict[int, float] = field(default_factory=dict)  # pid -> peak MB
    _stop: threading.Event = field(default_factory=threading.Event)
    _sampler: threading.Thread | None = None

    def __enter__(self) -> WorkerSet:
        import redis

        client = redis.Redis.from_url(self.url)
        client.flushdb()
        FOLDER.mkdir(parents=True, exist_ok=True)
        for i in range(self.count):
            log = (FOLDER / f"worker-{i}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "engine.cli", "worker", "--concurrency=1"],
                    env={**os.environ, "JESSR_BROKER_URL": self.url},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 120
        while len(list(client.scan_iter("jessr:worker:*"))) < self.count:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start (see out/bench-scaleout/)")
            time.sleep(0.2)
        time.sleep(2.0)  # their pool processes fork after the heartbeat starts
        client.close()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for proc in self.processes:
                for pid in _children(proc.pid):
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), _rss_mb(pid))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._sampler:
            self._sampler.join()
        for proc in self.processes:
            try:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, 9)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- one run ---------------------------------------------------------------------


def run_once(day_path: Path, iterations: int, config: str, part_size: int) -> dict[str, Any]:
    """Solve the day under ``config`` (pool-2, celery-1, celery-2) in a child process."""
    out = FOLDER / f"run-{config}.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scaleout",
            "_run",
            str(day_path),
            str(iterations),
            config,
            str(part_size),
        ],
        check=True,
    )
    return json.loads(out.read_text())


def _run(day_path: Path, iterations: int, config: str, part_size: int) -> None:
    """The child of :func:`run_once`: its own process, so its peak memory is its own."""
    from engine.checker import check_plan
    from engine.executors import solver_executor
    from engine.params import DayParams
    from engine.scenario.reader import load_scenario
    from engine.scenario.writer import plan_to_dict, write_json_atomic
    from engine.solve import solve_scenario

    scenario = load_scenario(day_path)
    params = DayParams(iterations=iterations, seed=1, workers=2, part_size=part_size)
    kind, _, n = config.partition("-")
    workers = None
    if kind == "celery":
        workers = WorkerSet(REDIS_URL, int(n)).__enter__()
    try:
        started = time.monotonic()
        with solver_executor(
            params.workers, broker_url=REDIS_URL if workers else None, label="bench"
        ) as execution:
            outcome = solve_scenario(
                scenario, replace(params, workers=execution.workers), executor=execution.executor
            )
            report = execution.final_report()
            timings = list(getattr(execution.executor, "timings", []))
        wall = time.monotonic() - started
    finally:
        if workers:
            workers.__exit__(None, None, None)
    doc = plan_to_dict(outcome.plan)
    plan_path = FOLDER / f"plan-{config}.json"
    write_json_atomic(doc, plan_path)
    check = check_plan(scenario, doc)
    row = {
        "config": config,
        "wall_s": wall,
        "started": started,
        "plan_sha256": hashlib.sha256(plan_path.read_bytes()).hexdigest(),
        "valid": check.valid,
        "delivered": check.delivered_value,
        "allocated": check.allocated_value,
        "caller_peak_mb": _peak_self_mb(),
        "worker_peak_mb": max(workers.peaks.values(), default=0.0) if workers else None,
        "late": len(report.get("late", [])),
        "parts": [
            {**t, "sent": t["sent"] - started, "answered": t["answered"] - started} for t in timings
        ],
    }
    (FOLDER / f"run-{config}.json").write_text(json.dumps(row))


# -- the model ---------------------------------------------------------------------


def phases(parts: list[dict[str, Any]]) -> tuple[list[list[dict[str, Any]]], float]:
    """Parts of a 1-worker run grouped into phases; and the time some part was out."""
    groups: list[list[dict[str, Any]]] = []
    cover, start, end = 0.0, 0.0, -1e18
    for p in sorted(parts, key=lambda p: p["sent"]):
        if p["sent"] > end:  # nothing was out when this part was sent
            if groups:
                cover += end - start
            if not groups or p["sent"] - end > PHASE_GAP:
                groups.append([])
            start = p["sent"]
        groups[-1].append(p)
        end = max(end, p["answered"])
    if groups:
        cover += end - start
    return groups, cover


def _median_kb(parts: list[dict[str, Any]]) -> str:
    import statistics

    sizes = [(p["in_bytes"] + p["out_bytes"]) / 1024 for p in parts]
    return f"{statistics.median(sizes):.0f}" if sizes else "0"


def makespan(durations: list[float], machines: int) -> float:
    """Greedy list scheduling in order: each part to the first machine free."""
    free = [0.0] * machines
    for d in durations:
        i = min(range(machines), key=free.__getitem__)
        free[i] += d
    return max(free)


def overhead(parts: list[dict[str, Any]]) -> float:
    """Median seconds a part spends outside its worker's solve (messages, payloads),
    over the parts that did not wait in the queue (sent when nothing else was out)."""
    import statistics

    lone, end = [], -1e18
    for p in sorted(parts, key=lambda p: p["sent"]):
        if p["sent"] >= end:
            lone.append(p["answered"] - p["sent"] - p["seconds"])
        end = max(end, p["answered"])
    return statistics.median(lone) if lone else 0.0


def predict(run1: dict[str, Any], machines: int, network: bool) -> float:
    """Wall time of the day on ``machines`` workers, from the 1-worker run.

    A part's duration is its worker's solve seconds plus the median overhead of
    a part that did not queue (:func:`overhead`); separate hosts add its
    payloads over the assumed link.
    """
    groups, busy = phases(run1["parts"])
    serial = run1["wall_s"] - busy
    extra = overhead(run1["parts"])
    total = serial
    for group in groups:
        durations = []
        for p in group:
            d = p["seconds"] + extra
            if network:
                d += (p["in_bytes"] + p["out_bytes"]) / (LINK_MB_S * 1e6) + RTT_S
            durations.append(d)
        total += makespan(durations, machines)
    return total


# -- commands ----------------------------------------------------------------------


def national(args: argparse.Namespace) -> int:
    from engine.generate import generate_scenario
    from engine.scenario.writer import write_json_atomic

    FOLDER.mkdir(parents=True, exist_ok=True)
    day_path = FOLDER / f"day-{args.requests}.json"
    if not day_path.exists():
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
    runs = {}
    for config in args.configs:
        saved = FOLDER / f"run-{config}.json"
        if args.reuse and saved.exists():
            runs[config] = json.loads(saved.read_text())
            continue
        runs[config] = run_once(day_path, args.iterations, config, args.part_size)
        row = {k: v for k, v in runs[config].items() if k != "parts"}
        print(json.dumps(row), flush=True)
    same = len({r["plan_sha256"] for r in runs.values()}) == 1
    one, two = runs.get("celery-1"), runs.get("celery-2")
    lines = [
        markers(SECTION)[0],
        "## Scale-out: a national day through Celery workers (`python -m bench.scaleout national`)",
        "",
        f"Machine: {machine()}. Date: {date.today().isoformat()}. "
        f"`jessr generate --requests {args.requests} --supplies {args.supplies} "
        f"--volunteers {args.volunteers} --seed {args.seed}`, solved with "
        f"`--iterations {args.iterations}` (seed 1) and regional parts of "
        f"{args.part_size} shipments, so every run makes the same plan "
        f"({'identical SHA-256 in every run' if same else 'PLANS DIFFER'}). `celery-N`: N "
        "`jessr worker --concurrency 1` processes on the local Redis, the caller in a third "
        "process; `pool-2`: no broker, the process pool of 2. Peak memory: resident set, "
        "caller from getrusage, each worker pool process sampled every 0.2 s.",
        "",
        "| run | wall s | vs celery-1 | D delivered | plan valid | parts on workers | late "
        "| caller peak MB | worker peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for config, r in runs.items():
        ratio = f"{r['wall_s'] / one['wall_s']:.2f}" if one else "-"
        wpeak = f"{r['worker_peak_mb']:.0f}" if r["worker_peak_mb"] else "-"
        lines.append(
            f"| {config} | {r['wall_s']:.1f} | {ratio} | {r['delivered']:.1f} "
            f"| {'yes' if r['valid'] else 'NO'} | {len(r['parts'])} | {r['late']} "
            f"| {r['caller_peak_mb']:.0f} | {wpeak} |"
        )
    if one:
        groups, busy = phases(one["parts"])
        serial = one["wall_s"] - busy
        lines += [
            "",
            f"Model fitted to `celery-1`: {len(one['parts'])} parts in {len(groups)} phases; "
            f"serial time in the caller {serial:.1f} s, parts out {busy:.1f} s; "
            f"a part's duration is its worker's solve time plus "
            f"{overhead(one['parts']) * 1000:.0f} ms (median overhead of a part that did "
            "not queue). Separate hosts add each part's payloads (median "
            f"{_median_kb(one['parts'])} KB) over an assumed {LINK_MB_S:.0f} MB/s link "
            f"and {RTT_S * 1000:.0f} ms per message.",
            "",
            "| workers | predicted wall s (loopback) | predicted wall s (separate hosts) "
            "| measured wall s |",
            "|---|---|---|---|",
        ]
        for w in (1, 2, 4, 8):
            measured = runs.get(f"celery-{w}")
            lines.append(
                f"| {w} | {predict(one, w, False):.1f} | {predict(one, w, True):.1f} "
                f"| {measured['wall_s']:.1f} |"
                if measured
                else f"| {w} | {predict(one, w, False):.1f} | {predict(one, w, True):.1f} | - |"
            )
    if two and one:
        lines += ["", f"2 workers / 1 worker, measured: {two['wall_s'] / one['wall_s']:.2f}."]
    lines.append(markers(SECTION)[1])
    write_section(args.out, "\n".join(lines) + "\n", SECTION)
    return 0


def _country_child(
    requests: int, supplies: int, volunteers: int, sample: int, iterations: int, out: Path
) -> None:
    """One day's gathering steps here, a sample of its routing parts on one worker."""
    import numpy as np

    from engine.dispatch import routing_problem
    from engine.generate import generate_scenario
    from engine.remote import CeleryExecutor
    from engine.scenario.reader import parse_scenario
    from engine.solve import allocate
    from routing import SolveParams
    from routing.parallel import solve_part
    from routing.regional import cut_by_reach, geo_alone_feasibility, part_count

    row: dict[str, Any] = {"requests": requests, "supplies": supplies, "volunteers": volunteers}
    clock = time.monotonic()
    scenario = parse_scenario(
        generate_scenario(requests=requests, supplies=supplies, volunteers=volunteers, seed=1)
    )
    row["generate_s"] = time.monotonic() - clock
    with WorkerSet(REDIS_URL, 1) as workers:
        executor = CeleryExecutor(REDIS_URL, label="country")
        try:
            clock = time.monotonic()
            allocation = allocate(scenario, executor=executor)
            row["allocate_s"] = time.monotonic() - clock
            row["categories"] = [
                {"seconds": t["seconds"], "in_kb": t["in_bytes"] / 1024}
                for t in executor.timings
                if t["kind"] == "matching.category"
            ]
            row["category_worker_peak_mb"] = max(workers.peaks.values(), default=0.0)
            workers.peaks.clear()
            clock = time.monotonic()
            dispatch = routing_problem(
                scenario, allocation.plan.allocations, allocation.values
            ).problem
            row["shipments"] = len(dispatch.shipments)
            row["problem_s"] = time.monotonic() - clock
            clock = time.monotonic()
            feasible, reasons = geo_alone_feasibility(dispatch)
            row["feasibility_s"] = time.monotonic() - clock
            row["feasibility_mb"] = feasible.nbytes / 2**20
            active = np.array([k for k, r in enumerate(reasons) if r is None], dtype=np.int64)
            vehs = np.arange(len(dispatch.vehicles))
            params = SolveParams(
                iterations=iterations,
                backends=("vroom", "pyvrp"),
                shares=(0.85, 0.15),
                vroom_exploration=None,
                workers=1,
            )
            clock = time.monotonic()
            count = part_count(active.size, vehs.size, params)
            regions = cut_by_reach(dispatch, feasible, active, vehs, count)
            row["partition_s"] = time.monotonic() - clock
            row["parts"] = len(regions)
            row["caller_peak_mb"] = _peak_self_mb()
            del feasible
            rng = random.Random(7)
            chosen = sorted(rng.sample(range(len(regions)), min(sample, len(regions))))
            sizes, seconds = [], []
            executor.timings.clear()
            for i in chosen:  # one at a time: the time of a part, not of a queue
                s_rows, v_rows = regions[i]
                part, _ = dispatch.part(active[s_rows], vehs[v_rows])
                sizes.append(len(part.shipments))
                executor.submit(solve_part, part, params, 1, None).result()
            seconds = [t["seconds"] for t in executor.timings]
            row["part_shipments"] = sizes
            row["part_seconds"] = seconds
            row["part_in_kb"] = [t["in_bytes"] / 1024 for t in executor.timings]
            row["part_out_kb"] = [t["out_bytes"] / 1024 for t in executor.timings]
            row["part_worker_peak_mb"] = max(workers.peaks.values(), default=0.0)
        finally:
            executor.shutdown()
    out.write_text(json.dumps(row))


def country(args: argparse.Namespace) -> int:
    import statistics

    FOLDER.mkdir(parents=True, exist_ok=True)
    rows = []
    for scale in (1, 10):
        out = FOLDER / f"country-x{scale}.json"
        if not (args.reuse and out.exists()):
            started = time.monotonic()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.scaleout",
                    "_country",
                    str(5_000 * scale * 10),
                    str(500 * scale * 10),
                    str(200 * scale * 10),
                    str(args.sample),
                    str(args.iterations),
                    str(out),
                ],
                check=True,
            )
            print(f"x{scale}: {time.monotonic() - started:.0f} s", flush=True)
        rows.append(json.loads(out.read_text()))
    lines = [
        markers(COUNTRY_SECTION)[0],
        "## Scale-out: a country ten times larger (`python -m bench.scaleout country`)",
        "",
        f"Machine: {machine()}. Date: {date.today().isoformat()}. Generated days (seed 1); "
        "the caller's gathering steps are run in full, in this process; the allocation's "
        "categories on one `jessr worker`; then a sample of "
        f"{args.sample} routing parts (the regional cut of the whole day, chosen at random) "
        f"sent to that worker one at a time, bounded by {args.iterations} iterations. "
        "Peak memory: resident set, caller from getrusage, the worker's pool process sampled "
        "every 0.2 s.",
        "",
        "| day | requests | volunteers | shipments | allocation s | largest category s "
        "| worker peak MB (allocation) | alone feasibility s (its matrix MB) | partition s "
        "| caller peak MB | parts | shipments per part (median) | s per part (median, max) "
        "| part in / out KB (median) | worker peak MB (routing parts) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scale, r in zip((1, 10), rows, strict=True):
        secs = r["part_seconds"]
        lines.append(
            f"| x{scale} | {r['requests']:,} | {r['volunteers']:,} | {r['shipments']:,} "
            f"| {r['allocate_s']:.0f} | {max(c['seconds'] for c in r['categories']):.0f} "
            f"| {r['category_worker_peak_mb']:.0f} "
            f"| {r['feasibility_s']:.0f} ({r['feasibility_mb']:.0f}) | {r['partition_s']:.1f} "
            f"| {r['caller_peak_mb']:.0f} | {r['parts']} "
            f"| {statistics.median(r['part_shipments']):.0f} "
            f"| {statistics.median(secs):.1f}, {max(secs):.1f} "
            f"| {statistics.median(r['part_in_kb']):.0f} / "
            f"{statistics.median(r['part_out_kb']):.0f} | {r['part_worker_peak_mb']:.0f} |"
        )
    lines.append(markers(COUNTRY_SECTION)[1])
    write_section(args.out, "\n".join(lines) + "\n", COUNTRY_SECTION)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_run":
        _run(Path(argv[1]), int(argv[2]), argv[3], int(argv[4]))
        return 0
    if argv and argv[0] == "_country":
        n = [int(x) for x in argv[1:6]]
        _country_child(*n, out=Path(argv[6]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout")
    sub = parser.add_subparsers(dest="command", required=True)
    nat = sub.add_parser("national")
    nat.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    nat.add_argument("--iterations", type=int, default=50)
    nat.add_argument("--part-size", type=int, default=300)
    nat.add_argument("--reuse", action="store_true", help="reuse measured runs in out/")
    nat.add_argument("--requests", type=int, default=50_000)
    nat.add_argument("--supplies", type=int, default=5_000)
    nat.add_argument("--volunteers", type=int, default=2_000)
    nat.add_argument("--seed", type=int, default=1)
    nat.add_argument("--configs", nargs="+", default=["celery-1", "celery-2", "pool-2"])
    nat.set_defaults(func=national)
    cty = sub.add_parser("country")
    cty.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    cty.add_argument("--sample", type=int, default=16)
    cty.add_argument("--iterations", type=int, default=300)
    cty.add_argument("--reuse", action="store_true", help="reuse measured days in out/")
    cty.set_defaults(func=country)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    random.seed(0)
    sys.exit(main())
