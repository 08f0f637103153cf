"""The one place that makes a process pool for the solvers.

``matching.solve`` and ``routing.solve`` take an executor and never start
processes themselves: a Celery prefork worker or a threaded web server must
be able to call them without a fork behind their back. :func:`process_pool`
is what a caller that owns its process (the ``jessr`` command line, the
benchmark runner) uses::

    with process_pool(workers) as executor:
        solve_scenario(scenario, ..., executor=executor)

It gives ``None`` (solve in-process, serially) whenever a pool would be
useless or unsafe (:func:`in_process_reason`):

* ``workers <= 1``: nothing to run at once, no start-up cost;
* this process is daemonic (a ``multiprocessing.Pool`` worker, a Celery
  prefork child): Python forbids it children;
* another Python thread is alive (a threaded web server, a progress
  display): forking copies whatever locks the other threads hold at that
  instant, and the child can deadlock on them. A server handles its
  concurrency by requests anyway: one request fanning out to a pool of its
  own would take the cores of the others.

Otherwise it is a ``ProcessPoolExecutor`` whose workers are started at once,
before the solve's large arrays exist, with the solver libraries already
imported (see :data:`START_METHODS` for fork or forkserver).

What goes to a worker is pickled per task either way, and kept small: a
regional part is a :class:`routing.GeoRoutingProblem` with its own
coordinates only, a decomposed part a :class:`routing.RoutingProblem` on its
compacted matrix, a search of :mod:`routing.multistart` the problem of one
piece (8 MB for 1,001 locations: 63 ms to reach a worker); answers are routes
by id or by node code. Nothing relies on a worker sharing the caller's memory.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.params import DayParams

log = logging.getLogger(__name__)

# fork where the platform forks safely (Linux): a worker is a copy of this
# process taken when the pool is made, so the solver libraries imported
# below (PyVRP, OR-Tools, VROOM: about a second to import) come with it, and
# nothing of the caller's __main__ is re-run (spawn and forkserver import it
# again in every worker, which breaks unguarded scripts). forkserver where
# fork is not the platform's choice (macOS, whose system libraries are not
# fork-safe): one clean server process imports the libraries once and every
# worker forks from it. Neither (Windows): in-process.
START_METHODS = ("fork", "forkserver") if sys.platform.startswith("linux") else ("forkserver",)
# Imported before the workers start (fork: inherited; forkserver: preloaded),
# so a part's budget is not spent importing. Optional backends may be absent.
PRELOAD = (
    "matching",
    "routing",
    "routing.backends.pyvrp_backend",
    "routing.backends.ortools_backend",
    "routing.backends.vroom_backend",
)
# A forkserver pool starts workers one per task while none is idle: each
# warm-up task lingers this long so that the next one goes to a new worker.
WARM_UP_SECONDS = 0.2


def in_process_reason(workers: int) -> str | None:
    """Why ``workers`` workers would run in this process; ``None``: a pool is fine."""
    if workers <= 1:
        return f"workers={workers}"
    if _daemonic():
        return "this process is daemonic (a pool or Celery worker): no children allowed"
    if threading.active_count() > 1:
        names = ", ".join(
            t.name for t in threading.enumerate() if t is not threading.current_thread()
        )
        return f"other threads are running ({names}): forking now is unsafe"
    if _start_method() is None:
        return "no fork or forkserver start method on this platform"
    return None


@contextmanager
def process_pool(workers: int, *, routing: bool = True) -> Iterator[Executor | None]:
    """A process pool of ``workers`` for the solvers, or ``None`` (in-process).

    ``routing=False`` (a day without volunteers: allocation only) skips
    preloading the routing backends, about 0.3-0.5 s of imports.

    ``None`` when :func:`in_process_reason` gives a reason (logged). The
    pool's workers are running when this yields; on exit it is shut down,
    tasks not yet started cancelled.
    """
    reason = in_process_reason(workers)
    if reason is not None:
        log.info("solving in-process: %s", reason)
        yield None
        return
    method = _start_method()
    assert method is not None  # in_process_reason checked it
    context = multiprocessing.get_context(method)
    names = PRELOAD if routing else tuple(m for m in PRELOAD if not m.startswith("routing"))
    preload(names)
    if method == "forkserver":
        context.set_forkserver_preload([m for m in names if m in sys.modules])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        # fork: the first task starts every worker at once; forkserver: one
        # per task, hence the linger.
        linger = WARM_UP_SECONDS if method == "forkserver" else 0.0
        list(pool.map(_warm_up, [linger] * workers))
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _daemonic() -> bool:
    if multiprocessing.current_process().daemon:
        return True
    # Celery's prefork children are billiard processes (its fork of
    # multiprocessing): daemonic there, not in the standard library's view.
    billiard = sys.modules.get("billiard.process")
    return bool(billiard and billiard.current_process().daemon)


def _start_method() -> str | None:
    available = multiprocessing.get_all_start_methods()
    return next((m for m in START_METHODS if m in available), None)


def preload(names: tuple[str, ...]) -> None:
    """Import ``names`` now (those not installed are skipped): before a pool forks."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional backend's library is not installed
            log.debug("not preloaded: %s", name)


def _warm_up(linger: float) -> None:
    time.sleep(linger)


@dataclass(frozen=True)
class Execution:
    """Where a solve's parts run: ``executor`` (``None``: in-process), ``workers`` at once.

    ``report`` says how the parts went (:meth:`engine.remote.CeleryExecutor.report`,
    or why the parts ran in-process); a batch keeps it in its metrics.
    """

    executor: Executor | None
    workers: int
    report: dict[str, Any] = field(default_factory=dict)

    def final_report(self) -> dict[str, Any]:
        """The report as it stands when the solve is over (late parts included)."""
        live = getattr(self.executor, "report", None)
        return {**self.report, **live()} if callable(live) else dict(self.report)


@contextmanager
def solver_executor(
    workers: int, *, broker_url: str | None = None, label: str = "solve", routing: bool = True
) -> Iterator[Execution]:
    """The executor of one solve: Celery workers when ``broker_url`` is set, else a pool.

    With a broker, the parts go to the ``jessr worker`` processes listening on it,
    as many at once as they have pool processes (:mod:`engine.remote`); if the
    broker is unreachable or no worker answers, the solve runs here on a process
    pool of ``workers`` as without a broker, and the report says why. Without a
    broker: :func:`process_pool`.
    """
    if broker_url:
        from engine.remote import CeleryExecutor

        reason = None
        try:
            remote = CeleryExecutor(broker_url, label=label)
        except Exception as exc:  # a malformed URL, a transport that cannot start
            remote, reason = None, f"the broker cannot be used ({exc})"
        if remote is not None:
            capacity = remote.capacity()
            if capacity > 0:
                try:
                    yield Execution(remote, capacity, {"workers": capacity})
                finally:
                    remote.shutdown(wait=False, cancel_futures=True)
                return
            remote.shutdown(wait=False, cancel_futures=True)
            reason = "no worker answered on the broker"
        log.warning("scale-out: %s; solving here", reason)
        with process_pool(workers, routing=routing) as pool:
            yield Execution(pool, workers, {"executor": "in-process", "reason": reason})
        return
    with process_pool(workers, routing=routing) as pool:
        yield Execution(pool, workers, {"executor": "in-process"})


def scale_out_line(report: dict[str, Any]) -> str:
    """One line on where the parts ran, for a command's summary."""
    if report.get("executor") != "celery":
        return f"Scale-out: solved here ({report.get('reason') or 'no broker'})"
    late = report.get("late") or []
    line = (
        f"Scale-out: {report.get('parts', 0)} parts sent to {report.get('workers', 0)} "
        f"worker processes, {report.get('answered_by_workers', 0)} answered by them"
    )
    if late:
        line += f"; {len(late)} late, solved here ({late[0]['reason']})"
    return line


PARTS_PER_WORKER = 2  # a regional round's parts per worker process, at least (time-limited)


def for_workers(params: DayParams, workers: int, *, remote: bool) -> DayParams:
    """``params`` for a solve on ``workers`` processes (Celery workers if ``remote``).

    A time-limited day on Celery workers asks for at least :data:`PARTS_PER_WORKER`
    regional parts per worker process (``min_parts``), unless ``params`` sets it:
    on a day of few parts the workers beyond them would idle. Iteration-bounded
    days keep their parts whatever the workers, so their plan stays the same.
    """
    out = replace(params, workers=workers)
    if remote and params.iterations is None and params.min_parts is None and workers > 1:
        out = replace(out, min_parts=PARTS_PER_WORKER * workers)
    return out
