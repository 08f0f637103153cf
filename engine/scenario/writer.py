"""Write scenarios and plans in the exchange format, version 1.

:func:`scenario_to_dict` is the inverse of :func:`engine.scenario.reader.parse_scenario`
(``parse_scenario(scenario_to_dict(s)) == s``). :func:`plan_to_dict` renders a
:class:`~engine.scenario.plan.Plan` as the spec's plan JSON. :func:`write_json_atomic`
never leaves a half-written file behind: the document is serialised completely first,
written to a temporary file in the target directory, synced, then renamed over the
target in one step.

Rounding (informational fields only; the checker recomputes them): ``arrival`` is
rounded to the nearest minute, ``distance_km`` to 3 decimals (metres), metrics to 6
decimals. Coordinates are never rounded, so that visits match their supply and request
coordinates exactly.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from engine.scenario.errors import ScenarioError
from engine.scenario.model import DAY_END, DAY_START, Scenario
from engine.scenario.plan import Plan
from engine.scenario.reader import FORMAT_VERSION, read_json_file

DISTANCE_DECIMALS = 3
METRIC_DECIMALS = 6


def format_time(minutes: float) -> str:
    """Minutes after midnight as ``HH:MM`` (rounded to the nearest minute; 1440 is 24:00)."""
    total = round(minutes)
    return f"{total // 60:02d}:{total % 60:02d}"


def _number(value: float) -> int | float:
    # Integral values are written as integers (40, not 40.0): the file stays readable
    # and the reader turns them back into the same floats.
    return int(value) if float(value).is_integer() else value


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as an exchange-format document; ``parse_scenario`` reads it back equal.

    The category catalogue is always written out in full, so the file does not depend on
    the engine's built-in catalogue of the day it is replayed. Optional fields equal to
    their default are still written, except absent ``org``/``expires``/``regions``.
    """
    policy = scenario.policy
    supplies = []
    for s in scenario.supplies:
        rec: dict[str, Any] = {
            "id": s.id,
            "category": s.category,
            "quantity": s.quantity,
            "lat": s.lat,
            "lon": s.lon,
            "region": s.region,
        }
        if s.org is not None:
            rec["org"] = s.org
        if s.expires is not None:
            rec["expires"] = s.expires.isoformat()
        if s.regions is not None:
            rec["regions"] = sorted(s.regions)
        supplies.append(rec)
    whole_day = (DAY_START, DAY_END)
    requests = []
    for r in scenario.requests:
        rec = {
            "id": r.id,
            "category": r.category,
            "quantity": r.quantity,
            "lat": r.lat,
            "lon": r.lon,
            "region": r.region,
            "priority": r.priority,
            "filed": r.filed.isoformat(),
        }
        if tuple(r.window) != whole_day:
            rec["window"] = [format_time(r.window[0]), format_time(r.window[1])]
        requests.append(rec)
    doc: dict[str, Any] = {
        "version": scenario.version,
        "date": scenario.date.isoformat(),
        "categories": [
            {
                "id": c.id,
                "unit": c.unit,
                "weight_kg": _number(c.weight_kg),
                "perishable": c.perishable,
                **({"names": dict(c.names)} if c.names else {}),
            }
            for c in scenario.categories.values()
        ],
        "supplies": supplies,
        "requests": requests,
        "volunteers": [
            {
                "id": v.id,
                "lat": v.lat,
                "lon": v.lon,
                "capacity_kg": _number(v.capacity_kg),
                "shift": [format_time(v.shift[0]), format_time(v.shift[1])],
                "speed_kmh": _number(v.speed_kmh),
            }
            for v in scenario.volunteers
        ],
        "policy": {
            "max_distance_km": _number(policy.max_distance_km),
            "priority_weights": {
                str(k): _number(w) for k, w in sorted(policy.priority_weights.items())
            },
            "road_factor": _number(policy.road_factor),
            "stop_minutes": _number(policy.stop_minutes),
            "unit_minutes": _number(policy.unit_minutes),
        },
    }
    # A coordinator's adjustments, only when there are some: a scenario without any
    # is written (and hashed) exactly as before they existed.
    if scenario.exclusions:
        doc["exclusions"] = [{"supply": s, "request": r} for s, r in sorted(scenario.exclusions)]
    if scenario.pins:
        doc["pins"] = [
            {"supply": p.supply, "request": p.request, "quantity": p.quantity}
            for p in scenario.pins
        ]
    return doc


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as the spec's plan JSON (see the module docstring for rounding)."""
    return {
        "version": plan.version,
        "allocations": [
            {"id": a.id, "supply": a.supply, "request": a.request, "quantity": a.quantity}
            for a in plan.allocations
        ],
        "routes": [
            {
                "volunteer": route.volunteer,
                "visits": [
                    {
                        "lat": v.lat,
                        "lon": v.lon,
                        "arrival": format_time(v.arrival),
                        "pickups": list(v.pickups),
                        "deliveries": list(v.deliveries),
                    }
                    for v in route.visits
                ],
                "distance_km": round(float(route.distance_km), DISTANCE_DECIMALS),
            }
            for route in plan.routes
        ],
        "unrouted": [{"allocation": u.allocation, "reason": str(u.reason)} for u in plan.unrouted],
        "unmet": [
            {"request": u.request, "quantity": u.quantity, "reason": str(u.reason)}
            for u in plan.unmet
        ],
        "metrics": {
            name: round(float(value), METRIC_DECIMALS) for name, value in plan.metrics.items()
        },
    }


def write_json_atomic(doc: Any, path: str | os.PathLike[str], *, indent: int | None = 1) -> None:
    """Write ``doc`` as UTF-8 JSON to ``path`` atomically, creating the parent directory.

    The document is serialised before any file is touched, so a value JSON cannot hold
    (an object, NaN) raises ``TypeError``/``ValueError`` and leaves ``path`` as it was.
    Any string can be written, lone surrogates included (as ``\\uXXXX`` escapes).
    The bytes go to a temporary file in the same directory (same file system, so the
    final ``os.replace`` is atomic), which is fsynced first: after a crash ``path`` holds
    either the old or the new document, never a mix.
    """
    target = Path(path)
    text = json.dumps(doc, ensure_ascii=False, indent=indent, allow_nan=False) + "\n"
    # A lone surrogate (a string decoded from a JSON "\\ud800" escape) has no UTF-8
    # form; written as that same escape, the file stays valid JSON and reads back equal.
    data = text.encode("utf-8", "backslashreplace")
    target.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL on a random name instead of mkstemp: mkstemp forces mode 0600, while this
    # lets the umask decide, exactly as a plain open() of the target would.
    tmp_path = target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) everywhere.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_plan(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a plan file as a raw dict (for the checker); structure is not validated here.

    Raises :class:`ScenarioError` when the file cannot be read, is not JSON, is not a
    JSON object, or carries a ``version`` other than 1.
    """
    doc = read_json_file(path)
    name = os.fspath(path)
    if not isinstance(doc, dict):
        raise ScenarioError(f"{name}: a plan must be a JSON object")
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ScenarioError(f"{name}: plan version must be {FORMAT_VERSION}, got {version!r}")
    return doc
