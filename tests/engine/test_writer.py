"""Writer: atomic JSON files, the plan document's shape, the minimal plan reader."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.scenario.errors import ScenarioError
from engine.scenario.plan import (
    Plan,
    PlanAllocation,
    PlanRoute,
    PlanVisit,
    Unmet,
    Unrouted,
)
from engine.scenario.writer import format_time, load_plan, plan_to_dict, write_json_atomic

PLAN = Plan(
    allocations=(
        PlanAllocation("A1", "S1", "R1", 1),
        PlanAllocation("A7", "S1", "R2", 2),
    ),
    routes=(
        PlanRoute(
            volunteer="V1",
            visits=(
                PlanVisit(36.8065, 10.1815, 500, pickups=("A1",)),
                PlanVisit(35.1676, 8.8365, 725.4, deliveries=("A1",)),
            ),
            distance_km=503.21234567,
        ),
    ),
    unrouted=(Unrouted("A7", "no_volunteer_capacity"),),
    unmet=(Unmet("R9", 2, "no_supply"),),
    metrics={
        "allocated_value": 1234.5000000004,
        "delivered_value": 1200.0,
        "effort_kg_km": 55123.123456789,
        "route_km": 3210.4,
    },
)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_plan_dict_shape() -> None:
    doc = plan_to_dict(PLAN)
    assert list(doc) == ["version", "allocations", "routes", "unrouted", "unmet", "metrics"]
    assert doc["version"] == 1
    assert doc["allocations"][0] == {"id": "A1", "supply": "S1", "request": "R1", "quantity": 1}
    route = doc["routes"][0]
    assert route["volunteer"] == "V1"
    assert route["distance_km"] == 503.212
    assert route["visits"] == [
        {"lat": 36.8065, "lon": 10.1815, "arrival": "08:20", "pickups": ["A1"], "deliveries": []},
        {"lat": 35.1676, "lon": 8.8365, "arrival": "12:05", "pickups": [], "deliveries": ["A1"]},
    ]
    assert doc["unrouted"] == [{"allocation": "A7", "reason": "no_volunteer_capacity"}]
    assert doc["unmet"] == [{"request": "R9", "quantity": 2, "reason": "no_supply"}]
    assert doc["metrics"] == {
        "allocated_value": 1234.5,
        "delivered_value": 1200.0,
        "effort_kg_km": 55123.123457,
        "route_km": 3210.4,
    }
    json.dumps(doc, allow_nan=False)  # plain JSON types only


def test_empty_plan_dict() -> None:
    doc = plan_to_dict(Plan(allocations=()))
    assert doc == {
        "version": 1,
        "allocations": [],
        "routes": [],
        "unrouted": [],
        "unmet": [],
        "metrics": {},
    }


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "00:00"), (59.6, "01:00"), (545, "09:05"), (1440, "24:00")]
)
def test_format_time(minutes: float, text: str) -> None:
    assert format_time(minutes) == text


def test_write_creates_parent_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "out" / "deeper" / "plan.json"
    doc = plan_to_dict(PLAN)
    write_json_atomic(doc, path)
    assert json.loads(path.read_text(encoding="utf-8")) == doc
    assert load_plan(path) == doc
    assert _leftovers(path.parent) == []


def test_write_respects_umask(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    old = os.umask(0o022)
    try:
        write_json_atomic({"a": 1}, path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("bad", "error"),
    [({"x": object()}, TypeError), ({"x": float("nan")}, ValueError)],
)
def test_failed_serialisation_leaves_original_untouched(
    tmp_path: Path, bad: dict[str, Any], error: type[Exception]
) -> None:
    path = tmp_path / "plan.json"
    write_json_atomic({"version": 1, "ok": True}, path)
    before = path.read_bytes()
    with pytest.raises(error):
        write_json_atomic(bad, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_failed_write_leaves_original_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.json"
    write_json_atomic({"version": 1}, path)
    before = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_json_atomic({"version": 1, "big": list(range(1000))}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_failed_write_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    with pytest.raises(TypeError):
        write_json_atomic({"x": {1, 2}}, path)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_load_plan_errors(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"version": 1,\n "allocations": [,]}')
    with pytest.raises(ScenarioError, match=r"malformed JSON at line 2, column 18"):
        load_plan(path)
    path.write_text("[1]")
    with pytest.raises(ScenarioError, match="must be a JSON object"):
        load_plan(path)
    path.write_text('{"version": 2}')
    with pytest.raises(ScenarioError, match="version must be 1"):
        load_plan(path)
