"""The scale-out worker: ``jessr worker [--concurrency N]``.

A Celery worker (prefork pool of ``N`` processes) on ``JESSR_BROKER_URL``,
consuming the parts of days that ``batch run`` and ``jessr solve --broker`` send
(:mod:`engine.celery_app`). It needs no database and no keys: a part holds only
numbers, coordinates and ids. Start as many as there are hosts and cores; stop
one with Ctrl-C (a warm shutdown: the parts it is solving are finished) or
lose it: its parts are redelivered or taken back by the caller.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import threading
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr worker``."""
    from engine.cli import positive_int

    worker = sub.add_parser(
        "worker", help="a Celery worker solving the parts of days sent on JESSR_BROKER_URL"
    )
    worker.add_argument(
        "--concurrency",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="pool processes, one part each at a time (default: the cores)",
    )
    worker.add_argument(
        "--max-memory-per-child",
        type=positive_int,
        default=None,
        metavar="MB",
        help="replace a pool process after a part left it above this resident size",
    )
    worker.add_argument("--loglevel", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    worker.set_defaults(func=_worker)


def _worker(ns: argparse.Namespace) -> int:
    """Run the Celery worker in this process until it is stopped."""
    from engine.celery_app import QUEUE, beat_forever, make_app
    from engine.config import Settings
    from engine.errors import InputError
    from engine.executors import PRELOAD, preload

    broker = Settings.from_env().broker_url  # a malformed URL: one line, exit 2
    if not broker:
        raise InputError("worker: JESSR_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    logging.basicConfig(level=ns.loglevel, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The solver libraries are imported once here, before the pool forks, so a
    # part's time is not spent importing them in every pool process.
    preload(PRELOAD)
    app = make_app(broker)
    name = f"jessr-{os.getpid()}@{socket.gethostname()}"
    stop = threading.Event()
    beat = threading.Thread(
        target=beat_forever,
        args=(broker, name, stop, ns.concurrency),
        daemon=True,
        name="jessr-worker-beat",
    )
    beat.start()
    argv = [
        "worker",
        f"--concurrency={ns.concurrency}",
        f"--loglevel={ns.loglevel}",
        f"--queues={QUEUE}",
        f"--hostname={name}",
        "--without-gossip",
        "--without-mingle",
        "--pool=prefork",
    ]
    if ns.max_memory_per_child:
        argv.append(f"--max-memory-per-child={ns.max_memory_per_child * 1024}")
    try:
        app.worker_main(argv)
    finally:
        stop.set()
        beat.join()
    return 0
