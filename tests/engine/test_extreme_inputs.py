"""Extreme-but-valid and just-out-of-limit scenarios thrown at ``jessr solve``.

Values are drawn at or near the limits the engine states (:mod:`engine.scenario.rules`),
or just beyond one: ``jessr solve --time-limit 1`` either exits 0 with a plan the
checker finds valid, or exits 2 with a first line naming the field and the limit;
never a traceback, and an existing output file is left untouched on exit 2.
Quantities near 10^9 are drawn for days without volunteers only (see ``value``).
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.checker import check_plan
from engine.cli import main
from engine.scenario import rules
from engine.scenario.reader import load_scenario
from tests.helpers.days import scenario_doc

TINY = 5e-324  # the smallest positive float


# Per field: usual values, and values at or near a limit. A day takes its extremes in
# a few fields only, so that it still routes and the extremes meet real work.
_VALUES: dict[str, tuple[list[Any], list[Any]]] = {
    "capacity_kg": ([120.0, 400.0], [TINY, 1e-6, 999_999.999, rules.MAX_CAPACITY_KG]),
    "weight_kg": ([1.0, 15.0], [rules.MIN_WEIGHT_KG, 1.000001e-6, 1e5, rules.MAX_WEIGHT_KG]),
    "speed_kmh": ([30.0, 40.0], [rules.MIN_SPEED_KMH, 999.9, rules.MAX_SPEED_KMH]),
    "max_distance_km": (
        [150.0, 500.0],
        [
            rules.MIN_DISTANCE_KM,
            1.0000001,
            20015.0,
            rules.NO_DISTANCE_LIMIT_KM,
            1e306,
            1.7976931348623157e308,
        ],
    ),
    "road_factor": ([1.3], [TINY, 1e-9, 9.999, rules.MAX_ROAD_FACTOR]),
    "stop_minutes": ([0.0, 5.0], [TINY, 1439.999, rules.MAX_SERVICE_MINUTES]),
    "unit_minutes": ([0.0, 0.5], [TINY, 1439.999, rules.MAX_SERVICE_MINUTES]),
    "quantity": ([1, 3, 12], [40, 10**6, rules.MAX_QUANTITY]),
    # A town (36.8 N, 10.18 E) and places a few km apart, or the poles and antimeridian.
    "lat": ([36.8, 36.81, 36.85, 36.8000001], [-90.0, -89.9999, 0.0, 89.9999, 90.0]),
    "lon": ([10.18, 10.2, 10.25, 10.1800001], [-180.0, -179.9999, 0.0, 179.9999, 180.0]),
    "window": (
        [["00:00", "24:00"], ["08:00", "18:00"]],
        [["10:00", "10:00"], ["23:59", "24:00"], ["00:00", "00:01"]],
    ),
}
_ids = st.sampled_from(["A", "é", "٣", "x" * (rules.MAX_TEXT_LENGTH - 2), "𝔘𝔫𝔦"])

# (description, mutation, words the first stderr line must hold)
_OUT_OF_LIMITS: list[tuple[str, Any, tuple[str, ...]]] = [
    ("capacity", ("volunteers", "capacity_kg", 1_000_000.0001), ("capacity_kg", "at most 1000000")),
    ("weight low", ("categories", "weight_kg", 9.99e-7), ("weight_kg", "at least 0.000001")),
    ("weight high", ("categories", "weight_kg", 1e19), ("weight_kg", "at most 1000000")),
    ("speed low", ("volunteers", "speed_kmh", TINY), ("speed_kmh", "at least 0.1")),
    ("speed high", ("volunteers", "speed_kmh", 1000.0001), ("speed_kmh", "at most 1000")),
    ("road factor", ("policy", "road_factor", 10.000001), ("road_factor", "at most 10")),
    ("distance", ("policy", "max_distance_km", 0.999), ("max_distance_km", "at least 1")),
    ("stop minutes", ("policy", "stop_minutes", 1e300), ("stop_minutes", "at most 1440")),
    ("unit minutes", ("policy", "unit_minutes", 1440.5), ("unit_minutes", "at most 1440")),
    ("quantity", ("requests", "quantity", 10**9 + 1), ("quantity", "at most 1000000000")),
    ("long id", ("supplies", "id", "s" * 201), ("id", "at most 200 characters")),
    ("surrogate id", ("requests", "id", "R\ud800"), ("id", "valid Unicode")),
]


@st.composite
def _scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A small day, up to three of its fields at or near a stated limit."""
    extreme = draw(st.sets(st.sampled_from(sorted(_VALUES)), max_size=3))
    with_volunteers = draw(st.booleans())

    def value(name: str) -> Any:
        usual, edge = _VALUES[name]
        if name == "quantity" and with_volunteers:
            # Small with volunteers: a load heavier than the largest vehicle is split
            # into pieces, as many as units, and bounding that is another concern.
            edge = [40]
        return draw(st.sampled_from(edge if name in extreme else usual))

    def place() -> tuple[float, float]:
        return value("lat"), value("lon")

    categories = [
        {"id": cid, "unit": "u", "weight_kg": value("weight_kg")} for cid in ("c.one", "c.two")
    ]
    cats = st.sampled_from(["c.one", "c.two"])
    supplies = []
    for k in range(draw(st.integers(1, 3))):
        lat, lon = place()
        supplies.append(
            {
                "id": f"S{k}{draw(_ids)}",
                "category": draw(cats),
                "quantity": value("quantity"),
                "lat": lat,
                "lon": lon,
                "region": "TN-11",
            }
        )
    requests = []
    for k in range(draw(st.integers(1, 5))):
        lat, lon = place()
        requests.append(
            {
                "id": f"R{k}{draw(_ids)}",
                "category": draw(cats),
                "quantity": value("quantity"),
                "lat": lat,
                "lon": lon,
                "region": "TN-11",
                "priority": draw(st.integers(1, 5)),
                "window": value("window"),
            }
        )
    volunteers = []
    for k in range(draw(st.integers(1, 3)) if with_volunteers else 0):
        lat, lon = place()
        volunteers.append(
            {
                "id": f"V{k}{draw(_ids)}",
                "lat": lat,
                "lon": lon,
                "capacity_kg": value("capacity_kg"),
                "shift": value("window"),
                "speed_kmh": value("speed_kmh"),
            }
        )
    policy = {
        "max_distance_km": value("max_distance_km"),
        "road_factor": value("road_factor"),
        "stop_minutes": value("stop_minutes"),
        "unit_minutes": value("unit_minutes"),
        "priority_weights": {"1": 1, "2": 3, "3": 16, "4": 1000, "5": 20000},
    }
    return scenario_doc(
        categories=categories,
        supplies=supplies,
        requests=requests,
        volunteers=volunteers,
        policy=policy,
    )


def _break(doc: dict[str, Any], mutation: tuple[str, str, Any]) -> None:
    section, key, value = mutation
    if section == "policy":
        doc["policy"][key] = value
    elif section == "volunteers" and not doc["volunteers"]:
        doc["volunteers"] = [
            {"id": "V", "lat": 0.0, "lon": 0.0, "capacity_kg": 1.0, "shift": ["00:00", "24:00"]}
        ]
        doc["volunteers"][0][key] = value
    else:
        doc[section][-1][key] = value


def _solve(doc: dict[str, Any], folder: Path) -> tuple[int, str, Path, Path]:
    scenario = folder / "day.json"
    scenario.write_text(json.dumps(doc, ensure_ascii=True), encoding="utf-8")
    plan = folder / "plan.json"
    plan.write_text("previous plan", encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(
            ["solve", str(scenario), "-o", str(plan), "-q", "--time-limit", "1", "--workers", "1"]
        )
    return code, err.getvalue(), scenario, plan


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(doc=_scenarios(), broken=st.none() | st.sampled_from(_OUT_OF_LIMITS))
def test_extreme_days_solve_validly_or_name_a_limit(
    doc: dict[str, Any], broken: tuple[str, Any, tuple[str, ...]] | None
) -> None:
    if broken is not None:
        _break(doc, broken[1])
    with tempfile.TemporaryDirectory() as tmp:
        code, err, scenario, plan = _solve(doc, Path(tmp))
        assert "Traceback" not in err
        if broken is None:
            assert code == 0, err
            report = check_plan(load_scenario(scenario), json.loads(plan.read_text()))
            assert report.valid, report.violations[:5]
        else:
            assert code == 2
            first = err.splitlines()[0]
            assert all(word in first for word in broken[2]), first
            assert len(first) < 300
            assert plan.read_text() == "previous plan"
