"""``jessr solve --iterations N``: the same scenario, seed and N give the same plan bytes.

Each solve runs in its own ``python -m engine.cli`` process with its own
``PYTHONHASHSEED`` (set and dict orders of strings differ between them) and
another worker count: in iteration mode the worker count does not change the
plan (VROOM searches on one thread; parts and searches are deterministic
wherever they run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]


def jessr(*args: str, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    """``python -m engine.cli ARGS`` in a fresh process of this checkout."""
    env = {
        **os.environ,
        "PYTHONHASHSEED": hash_seed,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def day(tmp_path: Path, requests: int, supplies: int, volunteers: int) -> Path:
    path = tmp_path / "day.json"
    assert (
        main(
            [
                "generate",
                f"--requests={requests}",
                f"--supplies={supplies}",
                f"--volunteers={volunteers}",
                "--seed=5",
                f"-o={path}",
            ]
        )
        == 0
    )
    return path


def replay(scenario: Path, out: Path, n: int, seed: int, workers: int, hash_seed: str) -> str:
    """Solve in a new process; returns its stdout (summary)."""
    done = jessr(
        "solve",
        str(scenario),
        "-o",
        str(out),
        f"--iterations={n}",
        f"--seed={seed}",
        f"--workers={workers}",
        hash_seed=hash_seed,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_same_scenario_seed_and_iterations_same_plan_bytes(tmp_path: Path) -> None:
    scenario = day(tmp_path, requests=250, supplies=40, volunteers=8)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    replay(scenario, a, 40, seed=3, workers=1, hash_seed="1")
    replay(scenario, b, 40, seed=3, workers=2, hash_seed="2")
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(a.read_text())["routes"], "a plan with routes, not a trivial one"
    assert jessr("check", str(scenario), str(a)).returncode == 0


@pytest.mark.slow
def test_a_day_routed_by_regions_replays(tmp_path: Path) -> None:
    # Round 1 routes 1,663 allocations of 2,400 requests: above the 1,500
    # shipments (SolveParams.decompose_above) where routing goes by regions.
    scenario = day(tmp_path, requests=2400, supplies=360, volunteers=72)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    summary = replay(scenario, a, 5, seed=0, workers=2, hash_seed="3")
    replay(scenario, b, 5, seed=0, workers=1, hash_seed="4")
    assert "regional(" in summary
    assert a.read_bytes() == b.read_bytes()
    assert jessr("check", str(scenario), str(a)).returncode == 0


@pytest.mark.parametrize(
    "args",
    [["--iterations=5", "--time-limit=3"], ["--iterations=0"], ["--iterations=many"]],
    ids=["with-time-limit", "zero", "not-a-number"],
)
def test_bad_iterations_are_usage_errors(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    with pytest.raises(SystemExit) as exc:
        main(["solve", str(tmp_path / "day.json"), "-o", str(out), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--iterations" in err[-1]
    assert not out.exists()
