"""Routing benchmark runner: readers, the runner's own checker, the CLI and the report.

Tests marked ``benchdata`` read the shared instances (``../shared/benchmarks`` next to the
checkout, or ``/work/shared/benchmarks``) and are skipped when they are absent; the rest
use tiny hand-made instances.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bench import peers
from bench.feasibility import check_solution
from bench.instances import (
    Instance,
    InstanceError,
    read_bks_table,
    read_instance,
    read_solution,
    solution_name_distance,
)
from bench.report import write_section
from bench.routing_bench import main as bench_main
from bench.routing_bench import parse_solvers, run_one
from bench.routing_report import END, SECTION, START, render, select
from tests.helpers.benchdata import bench_dir

REPO = Path(__file__).resolve().parents[2]


BENCH = bench_dir()


def _lilim_path(name: str) -> Path:
    assert BENCH is not None  # only called from tests skipped without data
    folder = "lilim_400" if "_4_" in name else "lilim_200" if "_2_" in name else "lilim_100"
    return BENCH / "pdptw" / folder / f"{name}.txt"


def _bks_route_files() -> list[Path]:
    if BENCH is None:
        return []
    return sorted((BENCH / "pdptw" / "bks_solutions").glob("*.txt"))


def _x_solutions() -> list[Path]:
    if BENCH is None:
        return []
    return sorted((BENCH / "cvrp" / "x").glob("*.sol"))


# --- a tiny hand-made instance (no data needed) -----------------------------------------


def _tiny(**changes: object) -> Instance:
    """Depot at origin, pickup 1 at (3,4) (5 away), delivery 2 at (6,8) (5 further)."""
    base = Instance(
        name="tiny",
        family="lilim",
        coords=((0.0, 0.0), (3.0, 4.0), (6.0, 8.0)),
        demands=(0, 7, -7),
        windows=((0.0, 100.0), (10.0, 20.0), (0.0, 16.0)),
        service=(0.0, 1.0, 0.0),
        pairs=((1, 2),),
        capacity=10,
        max_vehicles=1,
        rounding="exact",
    )
    return replace(base, **changes)


def test_tiny_feasible_with_waiting() -> None:
    # Arrive at 1 at t=5, wait to 10, serve 1, reach 2 at 16 == due: feasible, 5+5+10 = 20.
    feasible, distance, vehicles, violations = check_solution(_tiny(), [[1, 2]])
    assert feasible, violations
    assert distance == pytest.approx(20.0)
    assert vehicles == 1


def test_tiny_violations() -> None:
    inst = _tiny()
    assert any("delivery before pickup" in v for v in check_solution(inst, [[2, 1]]).violations)
    late = check_solution(_tiny(windows=((0.0, 100.0), (10.0, 20.0), (0.0, 15.9))), [[1, 2]])
    assert not late.feasible and "due" in late.violations[0]
    heavy = check_solution(_tiny(capacity=6), [[1, 2]])
    assert not heavy.feasible and "capacity" in heavy.violations[0]
    home = check_solution(_tiny(windows=((0.0, 20.0), (10.0, 20.0), (0.0, 16.0))), [[1, 2]])
    assert not home.feasible and "depot" in home.violations[0]
    split = check_solution(inst, [[1], [2]])
    assert any("pickup on route 0, delivery on route 1" in v for v in split.violations)
    assert any("vehicles used" in v for v in split.violations)
    missing = check_solution(inst, [[1]])
    assert any("not visited: 2" in v for v in missing.violations)
    twice = check_solution(inst, [[1, 2, 2]])
    assert any("more than once" in v for v in twice.violations)
    bad = check_solution(inst, [[1, 2, 0, 9]])
    assert sum("invalid node" in v for v in bad.violations) == 2


def test_parse_solvers() -> None:
    assert parse_solvers(None) == ["jessr", "pyvrp", "vroom", "ortools"]
    assert parse_solvers(["pyvrp,vroom", "pyvrp", "ortools"]) == ["pyvrp", "vroom", "ortools"]
    with pytest.raises(ValueError, match="unknown solver"):
        parse_solvers(["gurobi"])


def test_run_one_turns_a_crash_into_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object) -> peers.PeerResult:
        raise RuntimeError("kaboom")

    monkeypatch.setitem(peers.PEERS, "pyvrp", boom)
    row = run_one(_tiny(), "pyvrp", 1.0)
    assert row["feasible"] is False and "kaboom" in row["error"]
    assert row["routes"] == [] and row["gap_pct"] is None


def test_run_one_scores_with_own_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    # A solver that lies about nothing but returns a bad order: the runner must notice.
    monkeypatch.setitem(peers.PEERS, "vroom", lambda *_a: peers.PeerResult([[2, 1]]))
    row = run_one(_tiny(bks_distance=20.0), "vroom", 1.0)
    assert row["feasible"] is False and row["violations"] and row["gap_pct"] is None
    monkeypatch.setitem(peers.PEERS, "vroom", lambda *_a: peers.PeerResult([[1, 2]]))
    row = run_one(_tiny(bks_distance=20.0), "vroom", 1.0)
    assert row["feasible"] is True and row["gap_pct"] == 0.0 and row["distance"] == 20.0


def test_cli_bad_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main([str(tmp_path / "nope.txt"), "--time-limit", "1"]) == 2
    assert "no such file" in capsys.readouterr().err
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    assert bench_main([str(junk)]) == 2
    assert bench_main([str(junk), "--solver", "nope"]) == 2


def test_jessr_bench_routing_hands_its_arguments_to_the_runner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli import main as jessr_main

    assert bench_main(["--help"]) == 0
    direct = capsys.readouterr()
    assert jessr_main(["bench-routing", "--help"]) == 0
    assert capsys.readouterr() == direct and direct.out.startswith("usage: jessr bench-routing")
    assert jessr_main(["bench-routing", str(tmp_path / "nope.txt"), "--time-limit", "1"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_jessr_bench_routing_without_the_harness_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli import main as jessr_main

    # What an installed wheel sees: no bench package anywhere on the path.
    monkeypatch.setitem(sys.modules, "bench", None)
    monkeypatch.setitem(sys.modules, "bench.routing_bench", None)
    assert jessr_main(["bench-routing", "x.txt", "--time-limit", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "development checkout" in err


def test_read_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vrp"
    bad.write_text("NAME : bad\nEDGE_WEIGHT_TYPE : EUC_2D\nEOF\n")
    with pytest.raises(InstanceError):
        read_instance(bad)


def test_report_section_replaced(tmp_path: Path) -> None:
    rows = [
        {
            "instance": "lr101",
            "solver": "pyvrp",
            "family": "lilim",
            "vehicles": 19,
            "distance": 1650.7992,
            "feasible": True,
            "gap_pct": 0.0,
            "seconds": 1.0,
            "routes": [],
            "bks_vehicles": 19,
            "bks_distance": 1650.7992,
        },
        {
            "instance": "lr101",
            "solver": "ortools",
            "family": "lilim",
            "vehicles": None,
            "distance": None,
            "feasible": False,
            "gap_pct": None,
            "seconds": 1.0,
            "routes": [],
            "error": "NoSolution",
        },
    ]
    section = render(rows, {"machine": "test", "date": "today", "time_limit": "1"})
    assert section.startswith(START) and section.rstrip().endswith(END)
    assert "| Li & Lim PDPTW | pyvrp | 1 | 1 | 1 | 1 | 1 | 1 | 0.00 |" in section
    out = tmp_path / "BENCHMARKS.md"
    write_section(out, section, SECTION)  # created
    out.write_text("# B\n\n## Matching\nkeep me\n\n" + out.read_text() + "\n## Tail\nme too\n")
    write_section(out, section.replace("test", "again"), SECTION)
    text = out.read_text()
    assert text.count(START) == 1 and "keep me" in text and "me too" in text
    assert "again" in text and "Machine: test" not in text


# --- shared data ------------------------------------------------------------------------


@pytest.mark.benchdata
@pytest.mark.skipif(BENCH is None, reason="shared benchmark data not available")
def test_readers_on_shared_instances() -> None:
    assert BENCH is not None
    lr101 = read_instance(BENCH / "pdptw" / "lilim_100" / "lr101.txt")
    assert (lr101.family, lr101.n_nodes, len(lr101.pairs)) == ("lilim", 107, 53)
    assert (lr101.capacity, lr101.max_vehicles, lr101.rounding) == (200, 25, "exact")
    assert (lr101.bks_vehicles, lr101.bks_distance) == (19, 1650.7992)
    assert all(lr101.demands[p] == -lr101.demands[d] > 0 for p, d in lr101.pairs)

    r101 = read_instance(BENCH / "vrptw" / "solomon_100" / "R101.txt")  # CRLF
    assert (r101.family, r101.name, r101.n_nodes, r101.capacity) == ("solomon", "R101", 101, 200)
    assert r101.windows is not None and r101.windows[0] == (0.0, 230.0)
    assert (r101.bks_vehicles, r101.bks_distance, r101.pairs) == (19, 1650.80, ())

    x = read_instance(BENCH / "cvrp" / "x" / "X-n101-k25.vrp")
    assert (x.family, x.n_nodes, x.capacity, x.windows, x.max_vehicles) == (
        "x",
        101,
        206,
        None,
        None,
    )
    assert (x.demands[0], x.rounding, x.bks_distance, x.bks_vehicles) == (0, "nint", 27591, 26)

    assert len(read_bks_table(BENCH / "pdptw" / "bks_lilim.csv")) == 176
    assert len(read_bks_table(BENCH / "vrptw" / "bks_solomon.csv")) == 56
    files, missing = select(BENCH, "quick")
    assert not missing and len(files) == 19


@pytest.mark.benchdata
@pytest.mark.skipif(BENCH is None, reason="shared benchmark data not available")
@pytest.mark.parametrize("path", _bks_route_files(), ids=lambda p: p.name)
def test_lilim_bks_routes_accepted(path: Path) -> None:
    name, vehicles, distance = solution_name_distance(path) or ("", 0, 0.0)
    inst = read_instance(_lilim_path(name))
    routes, _ = read_solution(path)
    result = check_solution(inst, routes)
    assert result.feasible, result.violations
    assert result.distance == pytest.approx(distance, abs=1e-3)
    assert result.distance == pytest.approx(inst.bks_distance, abs=1e-3)
    assert result.vehicles == vehicles == inst.bks_vehicles


@pytest.mark.benchdata
@pytest.mark.skipif(BENCH is None, reason="shared benchmark data not available")
def test_lilim_mutations_rejected() -> None:
    path = next(p for p in _bks_route_files() if p.name.startswith("lr101."))
    inst = read_instance(_lilim_path("lr101"))
    routes, _ = read_solution(path)
    pickups = {p: d for p, d in inst.pairs}

    # 1. a delivery moved in front of its pickup
    swapped = [list(r) for r in routes]
    r = next(r for r in swapped if any(v in pickups and pickups[v] in r for v in r))
    p = next(v for v in r if v in pickups and pickups[v] in r)
    i, j = r.index(p), r.index(pickups[p])
    r[i], r[j] = r[j], r[i]
    assert any("delivery before pickup" in v for v in check_solution(inst, swapped).violations)

    # 2. capacity: the same routes with a smaller vehicle — only load violations
    small = check_solution(replace(inst, capacity=10), routes)
    assert not small.feasible and all("load" in v for v in small.violations)

    # 3. a window: two whole routes driven back to back by one vehicle (pairs and loads
    #    stay valid, the second half is far too late)
    merged = [routes[0] + routes[1], *routes[2:]]
    late = check_solution(inst, merged)
    assert not late.feasible and all("due" in v for v in late.violations)

    # 4. fleet size
    few = check_solution(replace(inst, max_vehicles=len(routes) - 1), routes)
    assert few.violations == (f"{len(routes)} vehicles used, {len(routes) - 1} available",)


@pytest.mark.benchdata
@pytest.mark.skipif(BENCH is None, reason="shared benchmark data not available")
@pytest.mark.parametrize("path", _x_solutions(), ids=lambda p: p.stem)
def test_x_solutions_reproduce_cost(path: Path) -> None:
    inst = read_instance(path.with_suffix(".vrp"))
    routes, cost = read_solution(path)
    result = check_solution(inst, routes)
    assert result.feasible, result.violations
    assert result.distance == cost == inst.bks_distance
    assert result.vehicles == inst.bks_vehicles
    merged = check_solution(inst, [routes[0] + routes[1], *routes[2:]])
    assert not merged.feasible and all("capacity" in v for v in merged.violations)


@pytest.mark.benchdata
@pytest.mark.skipif(BENCH is None, reason="shared benchmark data not available")
def test_cli_smoke_pyvrp() -> None:
    path = _lilim_path("lc101")
    cmd = [sys.executable, "-m", "bench.routing_bench", str(path)]
    proc = subprocess.run(
        [*cmd, "--time-limit", "1", "--solver", "pyvrp"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    keys = {"instance", "solver", "vehicles", "distance", "feasible", "gap_pct", "seconds"}
    assert keys | {"routes"} <= row.keys()
    assert (row["instance"], row["solver"]) == ("lc101", "pyvrp")
    assert row["feasible"] is True, row.get("violations")
    inst = read_instance(path)
    again = check_solution(inst, row["routes"])
    assert again.feasible and again.distance == pytest.approx(row["distance"], abs=1e-4)
    assert row["gap_pct"] == pytest.approx(100 * (again.distance / inst.bks_distance - 1), abs=1e-2)


def _row(instance: str, family: str, solver: str, vehicles: int, distance: float) -> dict:
    return {
        "instance": instance,
        "solver": solver,
        "family": family,
        "vehicles": vehicles,
        "distance": distance,
        "feasible": True,
    }


def test_head_to_head_counts_wins_ties_and_losses_per_family() -> None:
    from bench.routing_report import head_to_head

    rows = [
        # Li & Lim: vehicles first — fewer vehicles wins despite more distance.
        _row("a", "lilim", "jessr", 9, 1100.0),
        _row("a", "lilim", "pyvrp", 10, 900.0),
        _row("b", "lilim", "jessr", 10, 900.001),  # tie within the tolerance
        _row("b", "lilim", "vroom", 10, 900.0),
        _row("c", "lilim", "jessr", 10, 910.0),  # behind the best of two peers
        _row("c", "lilim", "pyvrp", 10, 920.0),
        _row("c", "lilim", "vroom", 10, 900.0),
        # X: distance only — one vehicle more does not matter.
        _row("x1", "x", "jessr", 41, 100.0),
        _row("x1", "x", "pyvrp", 40, 101.0),
        {**_row("x2", "x", "jessr", 40, 0.0), "feasible": False, "distance": None},
        _row("x2", "x", "pyvrp", 40, 101.0),
    ]
    table = "\n".join(head_to_head(rows, ["lilim", "x"]))
    assert "| Li & Lim PDPTW | 3 | 1 | 1 | 1 | c (+1.11 %) |" in table
    assert "| CVRPLIB X | 2 | 1 | 0 | 1 | x2 (infeasible) |" in table
    assert head_to_head([r for r in rows if r["solver"] == "pyvrp"], ["lilim"]) == []


def test_within_gap_needs_the_bks_vehicle_count_except_on_x() -> None:
    from bench.routing_report import _within

    row = {"family": "lilim", "vehicles": 10, "bks_vehicles": 9, "gap_pct": -20.0}
    assert not _within(row, 1.0)  # fewer km with one vehicle more is not at the BKS
    assert _within({**row, "vehicles": 9, "gap_pct": 0.8}, 1.0)
    assert not _within({**row, "vehicles": 9, "gap_pct": 1.2}, 1.0)
    assert _within({"family": "x", "vehicles": 41, "bks_vehicles": 40, "gap_pct": 1.5}, 2.0)
    assert not _within({**row, "gap_pct": None}, 2.0)


def test_rendering_rows_from_another_machine_names_that_machine(tmp_path: Path) -> None:
    from bench.routing_report import main as report_main

    row = {
        "instance": "lc101",
        "solver": "jessr",
        "vehicles": 10,
        "distance": 828.94,
        "feasible": True,
        "gap_pct": 0.0,
        "seconds": 9.3,
        "routes": [],
        "family": "lilim",
        "bks_vehicles": 10,
        "bks_distance": 828.94,
        "time_limit": 60.0,
    }
    raw = tmp_path / "rows.jsonl"
    raw.write_text(json.dumps(row) + "\n")
    out = tmp_path / "B.md"
    args = ["--from-jsonl", str(raw), "--out", str(out), "--section", "old"]
    assert report_main([*args, "--machine", "Intel Xeon, 2 cores"]) == 0
    text = out.read_text()
    assert "* Machine: Intel Xeon, 2 cores" in text
    assert "* Time limit: 60 s" in text and "| lc101 | 10 | 828.94 | jessr | 10 |" in text
