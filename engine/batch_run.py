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
from dataclasses import dataclass
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
) -> Any:
    """``solve_scenario`` as ``jessr solve`` runs it (a process pool of ``workers``).

    ``search_record`` (what a time-limited run's searches did) is handed back to the
    solver when a batch stored one, so that the replay repeats those searches. The
    pool is made only where forking is safe (:func:`engine.executors.process_pool`):
    in a web server's thread the solve runs in-process.
    """
    from engine.executors import process_pool
    from engine.solve import solve_scenario

    with process_pool(workers, routing=bool(scenario.volunteers)) as executor:
        return solve_scenario(
            scenario, params, executor=executor, search_record=search_record, progress=progress
        )


def run_batch(
    database: Database,
    day: date,
    params: DayParams,
    actor: str,
    *,
    workers: int,
    progress: Stage | None = None,
) -> RunOutcome:
    """Snapshot ``day``, solve it with ``params``, store the draft as ``actor``."""
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
    if in_process_reason(workers) is None:
        # The solve forks a pool: no pooled connection may be copied into it.
        database.engine.dispose()
    outcome = solve(snap.scenario, params, workers, progress=progress)
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
            params,
            actor,
            solve_seconds=outcome.seconds,
            search_record=record,
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
