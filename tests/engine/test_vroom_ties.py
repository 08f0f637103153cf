"""Iteration mode gives the same plan bytes when VROOM meets equal-cost routes.

The day: a depot in Tunis, one volunteer, 12 requests of 2 baskets on a street
grid, so a route and its mirror image have exactly equal length. VROOM returned
one or the other from solve to solve (with one thread, no timeout, and the same
``PYTHONHASHSEED``: it breaks ties by something outside its input);
``routing.canonical`` maps both to one. Each process solves several times, so a
tie broken either way shows up within a process as well as between processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Solves in each process, and processes (their PYTHONHASHSEED; None: random).
SOLVES = 4
HASH_SEEDS = ("0", "0", "0", "1", "2", None)

SOLVE_AND_DIGEST = """
import hashlib, json, sys
from engine.params import DayParams
from engine.scenario.reader import load_scenario
from engine.scenario.writer import plan_to_dict
from engine.solve import solve_scenario

scenario = load_scenario(sys.argv[1])
for _ in range(int(sys.argv[2])):
    plan = solve_scenario(scenario, DayParams(iterations=20, seed=7, workers=1)).plan
    text = json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=1)
    print(hashlib.sha256(text.encode()).hexdigest())
"""


def tunis_grid_day(path: Path) -> Path:
    """Two lots of 10 baskets and a volunteer at the depot, 12 requests on a grid."""
    depot = {"lat": 36.8065, "lon": 10.1815, "region": "TN-11"}
    doc = {
        "version": 1,
        "date": "2026-11-28",
        "supplies": [
            {"id": f"L{i + 1}", "category": "food.basket", "quantity": 10, "org": "crt", **depot}
            for i in range(2)
        ],
        "requests": [
            {
                "id": f"R{i + 1}",
                "category": "food.basket",
                "quantity": 2,
                "lat": round(36.80 + 0.01 * (i % 10), 5),
                "lon": round(10.18 + 0.01 * (i // 10), 5),
                "region": "TN-11",
                "priority": 3,
                "filed": "2026-11-28",
            }
            for i in range(12)
        ],
        "volunteers": [{"id": "V1", "capacity_kg": 400.0, "shift": ["08:00", "16:00"], **depot}],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def digests(scenario: Path, hash_seed: str | None) -> list[str]:
    """Plan digests of ``SOLVES`` solves in one fresh process of this checkout."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("PYTHONHASHSEED", None)
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    done = subprocess.run(
        [sys.executable, "-c", SOLVE_AND_DIGEST, str(scenario), str(SOLVES)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert len(lines) == SOLVES
    return lines


def test_mirror_routes_give_one_plan_in_every_process(tmp_path: Path) -> None:
    scenario = tunis_grid_day(tmp_path / "day.json")
    seen = [d for seed in HASH_SEEDS for d in digests(scenario, seed)]
    assert len(set(seen)) == 1, f"{len(set(seen))} different plans in {len(seen)} solves"
