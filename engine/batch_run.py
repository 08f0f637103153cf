"""One run of the daily batch: snapshot a date, solve it, store the draft.

The one code path of ``jessr batch run`` and of the web's background job
(:func:`engine.jobs.run_batch_job`): the snapshot is one read transaction, the
solve runs outside any transaction (with :func:`engine.solve.solve_scenario`, as
``jessr solve`` does), the draft is stored in one write transaction
(:func:`engine.batch.store_draft`), rerun if the database aborts it for a
transient reason. ``progress`` hears each stage: ``snapshot``, the solver's
stages, ``storing``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from engine.adjustments import Skipped
from engine.db.session import Database
from engine.params import DayParams

Stage = Callable[[str, float | None], None]  # (stage, seconds it may take or None)


@dataclass(frozen=True)
class RunOutcome:
    """What a run stored: the draft's id and metrics, and the pins it could not keep."""

    batch_id: int
    metrics: dict[str, Any]
    skipped: tuple[Skipped, ...] = ()


def solve(
    scenario: Any,
    params: DayParams,
    workers: int,
    search_record: Mapping[str, Any] | None = None,
    progress: Stage | None = None,
    *,
    broker_url: str | None = None,
    label: str = "solve",
    report: dict[str, Any] | None = None,
) -> Any:
    """``solve_scenario`` as ``jessr solve`` runs it: on Celery workers or a local pool.

    With ``broker_url`` the parts go to ``jessr worker`` processes
    (:func:`engine.executors.solver_executor`), else to a process pool of
    ``workers``, made only where forking is safe: in a web server's thread the
    solve runs in-process. ``search_record`` (what a time-limited run's searches
    did) is handed back to the solver when a batch stored one, so that the replay
    repeats those searches. ``report`` (a dict) is filled with where the parts
    ran, late parts included.
    """
    from engine.executors import for_workers, solver_executor
    from engine.solve import solve_scenario

    with solver_executor(
        workers, broker_url=broker_url, label=label, routing=bool(scenario.volunteers)
    ) as execution:
        effective = for_workers(params, execution.workers, remote=bool(broker_url))
        outcome = solve_scenario(
            scenario,
            effective,
            executor=execution.executor,
            search_record=search_record,
            progress=progress,
        )
        if report is not None:
            report.update(execution.final_report())
            if effective.min_parts is not None:
                report["min_parts"] = effective.min_parts
        return outcome


def run_batch(
    database: Database,
    day: date,
    params: DayParams,
    actor: str,
    *,
    workers: int,
    progress: Stage | None = None,
    broker_url: str | None = None,
) -> RunOutcome:
    """Snapshot ``day``, solve it with ``params``, store the draft as ``actor``.

    With ``broker_url`` (``JESSR_BROKER_URL``) the parts run on Celery workers; the
    draft's metrics then hold ``scale_out``: parts sent, answered by the workers,
    and the late ones solved here, with why.
    """
    from sqlalchemy.exc import IntegrityError

    from engine.batch import store_draft
    from engine.db.session import first_line
    from engine.errors import ConflictError
    from engine.executors import in_process_reason
    from engine.scenario.writer import plan_to_dict
    from engine.snapshot import document_text, scenario_text, snapshot

    if progress:
        progress("snapshot", None)
    with database.session() as session:
        snap = snapshot(session, day)
    text = scenario_text(snap.scenario)
    if broker_url or in_process_reason(workers) is None:
        # The solve forks a pool: no pooled connection may be copied into it.
        database.engine.dispose()
    report: dict[str, Any] = {}
    outcome = solve(
        snap.scenario,
        params,
        workers,
        progress=progress,
        broker_url=broker_url,
        label=f"batch-{day.isoformat()}",
        report=report,
    )
    scale_out = report if broker_url else None
    plan_text = document_text(plan_to_dict(outcome.plan))
    record = outcome.search_record
    if progress:
        progress("storing", None)

    def work(session: Any) -> tuple[int, dict[str, Any]]:
        batch = store_draft(
            session,
            snap,
            text,
            plan_text,
            # The parts it was cut into, so that a replay cuts the same.
            replace(params, min_parts=report.get("min_parts", params.min_parts)),
            actor,
            solve_seconds=outcome.seconds,
            search_record=record,
            scale_out=scale_out,
        )
        return batch.id, dict(batch.metrics or {})

    try:
        batch_id, metrics = database.run(work)
    except IntegrityError as exc:
        raise ConflictError(
            f"the database refused the change ({first_line(exc.orig)}); nothing written, "
            "check the current state and retry"
        ) from None
    return RunOutcome(batch_id, metrics, snap.skipped)
