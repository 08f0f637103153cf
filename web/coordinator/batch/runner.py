"""Where a batch job runs: a child process, started and watched by a thread of the
web process once the request that created the job has committed it.

The thread starts ``python -m engine.jobs JOB_ID`` — :func:`engine.jobs.run_batch_job`
with a database opened from the same settings and the job's id, nothing from the
request — and waits for it, moving the job's heartbeat every
:data:`engine.jobs.HEARTBEAT_SECONDS` while it lives. Why a process and not the
solve in the thread itself: the routing libraries hold Python's global lock for
long stretches (16 s in one go on a 2,000-request day, measured), which would
freeze every other request of this web worker for as long; in its own process
the solve freezes nothing, and a Celery worker can later run the same function.

If the web process stops, the watching thread (a daemon) stops with it while the
child finishes the run and records it; if the child dies without recording an
end (killed, out of memory), the thread marks the job failed; if both die, the
heartbeat stops and the next look marks the job failed (``engine.jobs``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

from flask import Blueprint, Flask, current_app, g

from engine import jobs

log = logging.getLogger(__name__)
PENDING = "batch_jobs_to_start"
THREADS = "jessr.batch_job_threads"


def start_after_commit(job_id: int) -> None:
    """Start job ``job_id`` when this request has ended (and committed it)."""
    g.setdefault(PENDING, []).append(job_id)


def watch(app: Flask, job_id: int) -> None:
    """Run job ``job_id`` in a child process and keep its heartbeat until it ends."""
    database = app.extensions["jessr.database"]
    settings = app.extensions["jessr.settings"]
    env = {**os.environ, "JESSR_DATABASE_URL": settings.database_url}
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "engine.jobs", str(job_id)],
            cwd=settings.base_dir,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        log.error("batch job %s: cannot start its process: %s", job_id, exc)
        jobs.fail(database, job_id, f"the run could not start ({exc.strerror or exc})")
        return
    while True:
        try:
            code = child.wait(timeout=jobs.HEARTBEAT_SECONDS)
            break
        except subprocess.TimeoutExpired:
            try:
                jobs.beat(database, job_id)
            except Exception:  # a busy database: the child's own beats still count
                log.warning("batch job %s: heartbeat not written", job_id, exc_info=True)
    if code != 0:  # a failure the job recorded stays as it is (fail() ends active jobs only)
        jobs.fail(database, job_id, f"the run stopped unexpectedly (exit status {code})")


def launch(app: Flask, job_id: int) -> threading.Thread:
    """Start watching job ``job_id`` from a new daemon thread; the thread is kept on
    the app (the tests wait for it)."""
    thread = threading.Thread(
        target=watch, args=(app, job_id), name=f"batch-job-{job_id}", daemon=True
    )
    threads: list[threading.Thread] = app.extensions.setdefault(THREADS, [])
    threads[:] = [t for t in threads if t.is_alive()]
    threads.append(thread)
    thread.start()
    return thread


def init_blueprint(bp: Blueprint) -> None:
    """Launch the request's pending jobs at its teardown — after the commit, which
    happens in ``after_request`` — and not when the request failed."""

    @bp.teardown_request
    def _start_pending(exc: BaseException | None) -> None:
        pending = g.pop(PENDING, [])
        if exc is None:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            for job_id in pending:
                launch(app, job_id)
