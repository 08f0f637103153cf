"""A time-limited day replayed from its search record: the same plan bytes.

``solve_scenario`` returns ``SolveOutcome.search_record`` (what each routing
round's searches did, and whether round 2 ran); given back as
``solve_scenario(..., search_record=...)`` it re-does that work without the
clock. The recorded run and the replay each run in a fresh process (their
own ``PYTHONHASHSEED``), the plan written as ``jessr solve`` writes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.params import DayParams
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict
from engine.solve import solve_scenario

ROOT = Path(__file__).resolve().parents[2]

# Run in a child process: solve the generated day, time-limited, or replay it
# from a record file; write the plan as the CLI does and the record.
SCRIPT = """
import json, sys
from engine.generate import generate_scenario
from engine.params import DayParams
from engine.scenario.reader import parse_scenario
from engine.scenario.writer import plan_to_dict, write_json_atomic
from engine.solve import solve_scenario

mode, out, rec_path, limit, decompose = sys.argv[1:6]
scenario = parse_scenario(
    generate_scenario(requests=160, supplies=40, volunteers=12, seed=5)
)
options = {"decompose_above": 30, "part_size": 20} if decompose == "1" else {}
params = DayParams(time_limit=float(limit), workers=1, **options)
record = json.load(open(rec_path)) if mode == "replay" else None
outcome = solve_scenario(scenario, params, search_record=record)
write_json_atomic(plan_to_dict(outcome.plan), out)
if mode == "record":
    with open(rec_path, "w") as f:
        json.dump(outcome.search_record, f)
"""


def run(tmp: Path, mode: str, name: str, decompose: bool, hash_seed: str) -> bytes:
    env = {
        **os.environ,
        "PYTHONHASHSEED": hash_seed,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp / f"{name}.json"
    args = [
        mode,
        str(out),
        str(tmp / "record.json"),
        "8" if decompose else "4",
        "1" if decompose else "0",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out.read_bytes()


@pytest.mark.parametrize("decompose", [False, True], ids=["one-piece", "regional-parts"])
def test_replay_in_a_fresh_process_gives_the_same_plan_bytes(
    tmp_path: Path, decompose: bool
) -> None:
    recorded = run(tmp_path, "record", "recorded", decompose, "1")
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["version"] == 1 and record["round1"] is not None
    if decompose:
        assert record["round1"]["path"] == "regional"
        assert len(record["round1"]["round1"]) >= 2  # the day really was cut into parts
    replayed = run(tmp_path, "replay", "replayed", decompose, "2")
    assert json.loads(recorded)["routes"], "a plan with routes"
    assert replayed == recorded


def small_day() -> object:
    from engine.generate import generate_scenario

    return parse_scenario(generate_scenario(requests=80, supplies=20, volunteers=5, seed=3))


def test_replay_reads_no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a clock that jumps an hour at every reading, the replay still
    gives the recorded plan (any deadline it consulted would have passed)."""
    scenario = small_day()
    params = DayParams(time_limit=3.0, workers=1)
    outcome = solve_scenario(scenario, params)
    record = json.loads(json.dumps(outcome.search_record))
    want = json.dumps(plan_to_dict(outcome.plan))

    real = time.monotonic
    jumps = iter(range(1, 10**9))

    def jumping() -> float:
        return real() + 3600.0 * next(jumps)

    monkeypatch.setattr(time, "monotonic", jumping)
    replayed = solve_scenario(scenario, params, search_record=record)
    assert json.dumps(plan_to_dict(replayed.plan)) == want


def test_a_record_is_refused_with_iterations() -> None:
    scenario = small_day()
    outcome = solve_scenario(scenario, DayParams(time_limit=2.0, workers=1))
    assert outcome.search_record is not None
    with pytest.raises(ValueError, match="search_record"):
        solve_scenario(
            scenario,
            DayParams(time_limit=2.0, workers=1, iterations=10),
            search_record=outcome.search_record,
        )
    assert solve_scenario(scenario, DayParams(iterations=10, workers=1)).search_record is None
