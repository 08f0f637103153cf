"""Where a batch job runs: a thread of the web process, started once the request
that created the job has committed it.

The thread calls :func:`engine.jobs.run_batch_job` with the app's
:class:`~engine.db.session.Database` and the job's id, nothing from the request:
it opens its own sessions, so it outlives the request, and a Celery task can
later call the same function with the same two arguments. The thread is a
daemon: if the web process stops, the job's heartbeat stops and the next look
marks it failed (``engine.jobs``). The solve runs in-process in the thread
(:func:`engine.executors.process_pool` never forks a threaded server).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, g

from engine.jobs import run_batch_job

log = logging.getLogger(__name__)
PENDING = "batch_jobs_to_start"
THREADS = "jessr.batch_job_threads"


def start_after_commit(job_id: int) -> None:
    """Start job ``job_id`` when this request has ended (and committed it)."""
    g.setdefault(PENDING, []).append(job_id)


def _run(app: Flask, job_id: int) -> None:
    try:
        run_batch_job(app.extensions["jessr.database"], job_id)
    except Exception:  # run_batch_job records its failures; this is a last resort
        log.exception("batch job %s: the runner itself failed", job_id)


def launch(app: Flask, job_id: int) -> threading.Thread:
    """Run job ``job_id`` in a new daemon thread; the thread is kept on the app (the
    tests wait for it)."""
    thread = threading.Thread(
        target=_run, args=(app, job_id), name=f"batch-job-{job_id}", daemon=True
    )
    threads: list[threading.Thread] = app.extensions.setdefault(THREADS, [])
    threads[:] = [t for t in threads if t.is_alive()]
    threads.append(thread)
    thread.start()
    return thread


def init_blueprint(bp) -> None:  # type: ignore[no-untyped-def]
    """Launch the request's pending jobs at its teardown (after the commit, which
    happens in ``after_request``); not when the request failed."""
    from flask import current_app

    @bp.teardown_request
    def _start_pending(exc: BaseException | None) -> None:
        pending = g.pop(PENDING, [])
        if exc is None:
            for job_id in pending:
                launch(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
