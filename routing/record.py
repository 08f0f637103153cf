"""Search records: what a time-limited solve did, so that it can be replayed.

A time-limited solve decides by the clock: how many iterations PyVRP gets
through, where the greedy repair stops, which backends, parts and searches
still fit. :func:`routing.solve` writes those outcomes down as it goes, in
units that do not depend on the machine, and returns them as
``RoutingResult.record``; ``SolveParams(replay=record)`` then re-does
exactly that work with no clock (``routing/README.md``, "Reproducible
solves"). A record is a JSON-serialisable dict, nested like the solve:

* ``{"version", "path": "piece", "timed_out", "portfolio" | "searches"}``:
  a problem solved in one piece. ``portfolio`` is one portfolio run;
  ``searches`` is a list of ``{"seed", "answered", "portfolio"}``, one per
  independent search (:mod:`routing.multistart`), a search that did not
  answer in time being replayed as absent.
* ``{"version", "path": "decomposed", "parts", "checks"}`` and
  ``{"version", "path": "regional", "round1", "round2", "greedy"}``: parts,
  each ``{"part", "status", "record"}`` keyed by part index (``status``
  ``"solved"``, ``"not_started"`` for lack of time, ``"failed"``), with the
  part's own piece record; ``checks``/``greedy``: the cross-part repair's
  evaluator calls (regional: one count per chunk reached).
* A portfolio run: ``{"runs": [...], "not_planned": [...],
  "insertion_checks"}``. Each run names its backend and carries either
  ``iterations`` (PyVRP's single search: re-run with that many iterations)
  or ``routes`` (the backend's own output, ``[[vehicle, [node codes]],
  ...]``: VROOM, whose time-limited search cannot be repeated by any count
  it reports, OR-Tools, and PyVRP's fleet phases on benchmark-like models,
  which stop on stall seconds), or ``failed`` or ``skipped``; and
  ``checks``, the float repair's evaluator calls after it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from routing.backends import Routes

log = logging.getLogger(__name__)

VERSION = 1


def new(path: str) -> dict[str, Any]:
    """An empty record of a solve taking ``path`` (piece, decomposed, regional)."""
    return {"version": VERSION, "path": path, "pyvrp": _pyvrp_version()}


def check_version(record: Mapping[str, Any]) -> None:
    """Refuse, in one line, a record this code cannot replay."""
    if not isinstance(record, Mapping):
        raise ValueError(f"replay: expected a search record (a mapping), got {type(record)}")
    version = record.get("version")
    if version is not None and version != VERSION:
        raise ValueError(f"replay: search record version {version!r}, expected {VERSION}")


def expect(record: Mapping[str, Any], path: str) -> None:
    """Refuse a record of another path than the one this problem takes."""
    got = record.get("path")
    if got != path:
        raise ValueError(
            f"replay: the search record is of a {got!r} solve, this problem is solved {path!r}"
            " (another problem or other parameters than the recorded run's)"
        )
    if record.get("pyvrp") != _pyvrp_version():
        # Not refused: the plan is usually the same, but nothing guarantees it.
        log.warning(
            "replay: recorded with PyVRP %s, replayed with %s: the plan may differ",
            record.get("pyvrp"),
            _pyvrp_version(),
        )


def routes_to_json(routes: Routes) -> list[list[Any]]:
    """Node-code routes as JSON (object keys would have to be strings)."""
    return [[int(v), [int(c) for c in nodes]] for v, nodes in sorted(routes.items())]


def routes_from_json(data: Sequence[Any], vehicles: int, shipments: int) -> Routes:
    """Recorded routes back as node codes, checked against the problem's size."""
    routes: Routes = {}
    for v, nodes in data:
        if not 0 <= int(v) < vehicles or any(not 0 <= int(c) < 2 * shipments for c in nodes):
            raise ValueError("replay: the search record's routes do not fit this problem")
        routes[int(v)] = [int(c) for c in nodes]
    return routes


def _pyvrp_version() -> str | None:
    # A replay re-runs PyVRP's search: another PyVRP build may search otherwise.
    try:
        return metadata.version("pyvrp")
    except metadata.PackageNotFoundError:
        return None
