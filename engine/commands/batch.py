"""The daily batch: ``jessr batch run|list|show|publish|replay``, ``jessr export-scenario``.

``batch run`` snapshots the date (one read), solves outside any transaction with
the same :func:`engine.solve.solve_scenario` as ``jessr solve``, then stores the
draft in one transaction (:func:`engine.batch.store_draft`): the code path of the
web's background job too (:func:`engine.batch_run.run_batch`). The snapshot
carries the coordinators' active adjustments of the date (exclusions and pins). The default budget
is ``--iterations 1000``, not a time limit: an iteration-bounded solve is
deterministic, so ``batch replay`` can reproduce the stored plan byte for byte
on any machine, whatever its load.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.models import Batch

DEFAULT_ITERATIONS = 1000


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr batch …`` and ``jessr export-scenario``."""
    from engine.cli import iso_date, positive_int, time_limit

    batch = sub.add_parser("batch", help="the daily batch: run | list | show | publish | replay")
    actions = batch.add_subparsers(dest="batch_command", required=True, metavar="ACTION")

    run = actions.add_parser("run", help="snapshot a date, solve it, store a draft")
    run.add_argument("--date", required=True, type=iso_date, metavar="YYYY-MM-DD")
    budget = run.add_mutually_exclusive_group()
    budget.add_argument(
        "--time-limit",
        type=time_limit,
        metavar="S",
        help="bound the solve by seconds (the searches are recorded, so a replay repeats them)",
    )
    budget.add_argument(
        "--iterations",
        type=positive_int,
        metavar="N",
        help=f"bound routing by N iterations (default {DEFAULT_ITERATIONS}; replayable)",
    )
    run.add_argument("--seed", type=int, default=0, help="routing seed (default 0)")
    run.add_argument("--workers", type=positive_int, default=2, help="cores to use (default 2)")
    run.add_argument("--json", action="store_true", help='print {"id", "status", "metrics"}')
    run.set_defaults(func=_run)

    ls = actions.add_parser("list", help="list batches, newest first")
    ls.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)

    show = actions.add_parser("show", help="a batch's summary, or its stored documents")
    show.add_argument("id")
    which = show.add_mutually_exclusive_group()
    which.add_argument("--scenario", action="store_true", help="print the stored scenario")
    which.add_argument("--plan", action="store_true", help="print the stored plan")
    show.set_defaults(func=_show)

    pub = actions.add_parser("publish", help="reserve a draft's stock, all or nothing")
    pub.add_argument("id")
    pub.set_defaults(func=_publish)

    replay = actions.add_parser("replay", help="re-solve the stored scenario; 1 if it differs")
    replay.add_argument("id")
    replay.add_argument("--workers", type=positive_int, default=2, help="cores to use")
    replay.set_defaults(func=_replay)

    export = sub.add_parser("export-scenario", help="write a date's scenario (not solved)")
    export.add_argument("--date", required=True, type=iso_date, metavar="YYYY-MM-DD")
    export.add_argument("-o", "--output", required=True, help="scenario JSON to write")
    export.set_defaults(func=_export)


def _params(ns: argparse.Namespace) -> Any:
    from engine.errors import InputError
    from engine.params import DayParams

    try:
        if ns.time_limit is not None:
            return DayParams(time_limit=ns.time_limit, seed=ns.seed, workers=ns.workers)
        return DayParams(
            iterations=ns.iterations or DEFAULT_ITERATIONS, seed=ns.seed, workers=ns.workers
        )
    except ValueError as exc:
        field, _, why = str(exc).partition(":")
        raise InputError(f"--{field.replace('_', '-')}:{why}") from None


def _solve(scenario: Any, params: Any, workers: int, search_record: Any = None) -> Any:
    """``solve_scenario`` as ``jessr solve`` runs it (:func:`engine.batch_run.solve`)."""
    from engine.batch_run import solve
    from engine.commands._common import load_settings

    broker = load_settings().broker_url
    return solve(scenario, params, workers, search_record, broker_url=broker, label="replay")


def _run(ns: argparse.Namespace) -> int:
    from engine.batch_run import run_batch
    from engine.commands._common import load_settings
    from engine.db.session import open_database

    params = _params(ns)
    settings = load_settings()
    with open_database(settings) as database:
        outcome = run_batch(
            database,
            ns.date,
            params,
            settings.actor,
            workers=ns.workers,
            broker_url=settings.broker_url,
        )
    batch_id, metrics = outcome.batch_id, outcome.metrics
    for s in outcome.skipped:
        print(
            f"jessr: note: the pin of {s.lot} to {s.request} (adjustment {s.adjustment_id}) "
            f"was not applied: {s.reason}",
            file=sys.stderr,
        )
    if ns.json:
        print(json.dumps({"id": batch_id, "status": "draft", "metrics": metrics}, sort_keys=True))
    else:
        print(
            f"batch {batch_id} ({ns.date.isoformat()}): draft, "
            f"{metrics.get('routed', 0)} allocations on {metrics.get('routes', 0)} routes, "
            f"{metrics.get('for_collection', 0)} for collection at the site, "
            f"{metrics.get('unmet', 0)} requests unmet; "
            f"review with `jessr batch show {batch_id}`, then `jessr batch publish {batch_id}`"
        )
    return 0


def _view(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "date": batch.date.isoformat(),
        "status": batch.status,
        "seed": batch.seed,
        "time_limit": batch.time_limit,
        "iterations": batch.iterations,
        "scenario_sha256": batch.scenario_sha256,
        "plan_sha256": batch.plan_sha256,
        "metrics": batch.metrics or {},
        "created_by": batch.created_by,
        "created_at": batch.created_at.isoformat() if batch.created_at else None,
        "published_at": batch.published_at.isoformat() if batch.published_at else None,
        "superseded_by": batch.superseded_by_id,
    }


def _list(ns: argparse.Namespace) -> int:
    from engine.batch import list_batches
    from engine.commands._common import operation

    with operation() as (_settings, session):
        views = [_view(b) for b in list_batches(session, ns.date)]
    if ns.json:
        print(json.dumps(views, indent=1, sort_keys=True))
        return 0
    print(
        f"{'id':>5}  {'date':10}  {'status':10}  {'budget':>10}  {'routed':>7}  "
        f"{'collect':>7}  {'unmet':>6}  created"
    )
    for v in views:
        m = v["metrics"]
        budget = f"{v['iterations']} it" if v["iterations"] else f"{v['time_limit']:g} s"
        print(
            f"{v['id']:>5}  {v['date']:10}  {v['status']:10}  {budget:>10}  "
            f"{m.get('routed', 0):>7}  {m.get('for_collection', 0):>7}  {m.get('unmet', 0):>6}  "
            f"{(v['created_at'] or '')[:19]}"
        )
    return 0


def _show(ns: argparse.Namespace) -> int:
    from engine.batch import allocation_counts, get_batch
    from engine.commands._common import operation

    with operation() as (_settings, session):
        batch = get_batch(session, ns.id)
        if ns.scenario or ns.plan:
            sys.stdout.write(batch.scenario if ns.scenario else batch.plan)
            return 0
        view = _view(batch)
        counts = allocation_counts(session, batch.id)
    m = view["metrics"]
    if view["iterations"]:
        budget = f"{view['iterations']} iterations (replayable)"
    elif batch.search_record is not None:
        budget = f"{view['time_limit']:g} s time limit (searches recorded: replayable)"
    else:
        budget = f"{view['time_limit']:g} s time limit (no search record: replay not guaranteed)"
    lines = [
        f"batch {view['id']} of {view['date']}: {view['status']}"
        + (f" (superseded by {view['superseded_by']})" if view["superseded_by"] else ""),
        f"  made by {view['created_by']} at {view['created_at']}, seed {view['seed']}, {budget}",
        f"  snapshot: {m.get('supplies', 0)} lots, {m.get('requests', 0)} open requests, "
        f"{m.get('volunteers', 0)} volunteers available",
        f"  plan: {m.get('allocations', 0)} allocations, {m.get('routed', 0)} on "
        f"{m.get('routes', 0)} volunteer routes, {m.get('unmet', 0)} requests unmet",
        f"  for collection at the site (no volunteer can carry them): "
        f"{m.get('for_collection', 0)}"
        + (
            " (" + ", ".join(f"{r}: {n}" for r, n in m["for_collection_reasons"].items()) + ")"
            if m.get("for_collection_reasons")
            else ""
        ),
        "  allocations by status: "
        + (", ".join(f"{s} {n}" for s, n in sorted(counts.items())) or "none"),
        f"  scenario sha256 {view['scenario_sha256']}",
        f"  plan sha256     {view['plan_sha256']}",
    ]
    for name in ("delivered_value", "delivered_units", "distance_km", "solve_seconds"):
        if name in m:
            lines.append(f"  {name.replace('_', ' ')}: {m[name]:g}")
    if view["status"] == "draft":
        lines.append(f"  publish with `jessr batch publish {view['id']}`")
    print("\n".join(lines))
    return 0


def _publish(ns: argparse.Namespace) -> int:
    from engine.batch import publish
    from engine.commands._common import run_operation

    def work(settings: Any, session: Any) -> tuple[int, dict[str, Any]]:
        batch = publish(session, ns.id, settings.actor)
        return batch.id, dict(batch.metrics or {})

    batch_id, metrics = run_operation(work)
    print(
        f"batch {batch_id} published: {metrics.get('routed', 0)} allocations on "
        f"{metrics.get('routes', 0)} routes, {metrics.get('for_collection', 0)} for collection "
        "at the site; stock reserved"
    )
    return 0


def _replay(ns: argparse.Namespace) -> int:
    from engine.batch import first_difference, get_batch, params_from_record, sha256_text
    from engine.commands._common import operation
    from engine.scenario.reader import parse_scenario
    from engine.scenario.writer import plan_to_dict
    from engine.snapshot import document_text

    with operation() as (_settings, session):
        batch = get_batch(session, ns.id)
        stored_scenario, stored_plan = batch.scenario, batch.plan
        stored = batch.params or {}
        record = batch.search_record
        batch_id = batch.id
    if sha256_text(stored_scenario) != batch.scenario_sha256:
        print(
            f"jessr: batch {batch_id}: the stored scenario no longer matches its hash",
            file=sys.stderr,
        )
        return 1
    scenario = parse_scenario(json.loads(stored_scenario), source=f"batch {batch_id} scenario")
    params = params_from_record({**stored, "workers": ns.workers})
    outcome = _solve(scenario, params, ns.workers, record)
    replayed = document_text(plan_to_dict(outcome.plan))
    guaranteed = params.iterations is not None or record is not None
    if replayed == stored_plan:
        print(f"batch {batch_id}: replay reproduces the stored plan (sha256 {batch.plan_sha256})")
        return 0
    why = first_difference(stored_plan, replayed)
    note = (
        ""
        if guaranteed
        else " (a time-limited batch without a search record is not guaranteed to reproduce)"
    )
    print(f"jessr: batch {batch_id}: the replayed plan differs: {why}{note}", file=sys.stderr)
    return 1


def _export(ns: argparse.Namespace) -> int:
    from engine.commands._common import operation
    from engine.scenario.writer import scenario_to_dict, write_json_atomic
    from engine.snapshot import snapshot

    with operation() as (_settings, session):
        snap = snapshot(session, ns.date)
    write_json_atomic(scenario_to_dict(snap.scenario), ns.output)
    s = snap.scenario
    print(
        f"Wrote {ns.output}: {len(s.supplies)} lots, {len(s.requests)} open requests, "
        f"{len(s.volunteers)} volunteers available on {ns.date.isoformat()}"
    )
    return 0
