"""``CeleryExecutor``: the solvers' executor when the parts run on Celery workers.

``matching.solve`` and ``routing.solve`` take a ``concurrent.futures.Executor``
(:mod:`engine.executors`); this is one whose ``submit`` sends the call to a
``jessr worker`` (:mod:`engine.celery_app`) instead of a local process, so the
solvers have one code path and two executors. Only the functions named in
:mod:`engine.parts` can be sent; their arguments and answers travel through
Redis as :mod:`engine.wire` payloads, the message holding the part's key and
kind only.

A day must finish by its deadline with a valid plan whatever the workers do.
A thread of this executor gathers the answers and watches the parts still out;
a part is **taken back** and solved in this process, from the input it was sent
with, when

* the worker that started it stopped beating (its host or its main process
  died): after ``stale_after`` seconds without a heartbeat (a pool process that
  dies alone is replaced and the part redelivered by Celery itself);
* no worker started it, none started or finished any part of this run for
  ``stall_after`` seconds, and no live worker is solving one (no worker left,
  or all busy elsewhere); parts queued behind a long part being solved wait;
* it is overdue: a time-limited part still out after its budget plus as much
  again (at least :data:`OVERDUE_MIN` s);
* the broker is unreachable: every part still out, at once; later ``submit``
  calls raise ``BrokenExecutor``, on which the solvers go on in-process.

A time-limited routing part taken back gets only what is left of its window
(:func:`engine.parts.Kind.shrink`), so taking it back does not push the day's
deadline; a part bounded by iterations is solved in full, and gives the very
answer the worker would have (the plan does not depend on who solved a part).
Whichever answer comes first is kept. :meth:`CeleryExecutor.report` says which
parts were late and why; the batch stores it in its metrics.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from concurrent.futures import Executor as _Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from engine import wire
from engine.celery_app import (
    BEAT_TTL,
    KEY_TTL,
    QUEUE,
    VISIBILITY_TIMEOUT,
    WORKERS,
    done_list,
    make_app,
    part_key,
    worker_key,
)
from engine.parts import Args, Kind, kind_of

log = logging.getLogger(__name__)

OVERDUE_MIN = 10.0  # s: a timed part is overdue after its budget plus max(this, its budget)
STALL_AFTER = 30.0  # s without any part of the run starting or finishing
POLL = 0.25  # s: how often the gatherer looks at heartbeats


class RemoteError(RuntimeError):
    """A part raised on its worker (the worker's message)."""


@dataclass(eq=False)
class _Part:
    key: str
    kind: Kind
    args: Args
    future: Future[Any]
    sent: float
    budget: float | None
    host: str | None = None  # the worker that started it (None: not started)
    last_beat: float | None = None  # when its worker was last seen beating
    taken: str | None = None
    in_bytes: int = 0


def _redis_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis

    return (redis.RedisError, kombu.exceptions.OperationalError, OSError)


class CeleryExecutor(_Executor):
    """Send parts to ``jessr worker`` processes on ``broker_url``; gather, or take back.

    ``label`` names the run in Redis keys and logs (e.g. ``batch-2026-12-08``).
    """

    def __init__(
        self,
        broker_url: str,
        *,
        label: str = "solve",
        stale_after: float = BEAT_TTL + 2.0,
        stall_after: float = STALL_AFTER,
    ) -> None:
        import redis

        self._app = make_app(broker_url)
        self._app.conf.task_publish_retry_policy = {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        }
        # A connection and producer of this executor's own: kombu's global producer
        # pools are shared by every app on the same URL in the process, so closing
        # them here would break the next executor (and leaving them open would leak
        # into any process forked later).
        self._connection = self._app.connection_for_write()
        self._producer = self._app.amqp.Producer(self._connection)
        self._r = redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=2)
        self.run = f"{label}-{uuid.uuid4().hex[:12]}"
        self.stale_after = stale_after
        self.stall_after = stall_after
        self._errors = _redis_errors()
        self._lock = threading.Lock()
        self._parts: dict[str, _Part] = {}
        self._seq = 0
        self._on_workers = 0
        self._late: list[dict[str, Any]] = []
        # Each answer from a worker: kind, sent and answered (monotonic), the
        # worker's own seconds, payload sizes; for benchmarks and the logs.
        self.timings: list[dict[str, Any]] = []
        self._broken: str | None = None
        self._last_progress = time.monotonic()
        self._closing = threading.Event()
        self._taker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jessr-take-back")
        self._gatherer = threading.Thread(target=self._gather, daemon=True, name="jessr-gather")
        self._gatherer.start()

    # -- the Executor interface ------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Send ``fn(*args)`` to a worker (``fn`` one of :mod:`engine.parts`)."""
        if kwargs:
            raise TypeError("parts take positional arguments only")
        kind = kind_of(fn)
        if self._broken is not None:
            raise BrokenExecutor(self._broken)
        if self._closing.is_set():
            raise RuntimeError("cannot submit after shutdown")
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            self._seq += 1
            key = f"{self.run}:{self._seq}"
        part = _Part(key, kind, args, future, time.monotonic(), kind.budget(args))
        with self._lock:
            self._parts[key] = part
        if part.budget is not None and part.budget > VISIBILITY_TIMEOUT / 2:
            # The broker would hand it to a second worker while the first still runs.
            self._take_back(part, "longer than half the broker's visibility timeout")
            return future
        try:
            payload = wire.dumps(kind.outbound(args))
            part.in_bytes = len(payload)
            self._r.set(part_key(key, "in"), payload, ex=KEY_TTL)
            self._app.send_task(
                "jessr.part", args=[key, kind.name], queue=QUEUE, producer=self._producer
            )
        except self._errors as exc:
            with self._lock:
                del self._parts[key]
            self._break(f"the broker is unreachable ({exc})")
            raise BrokenExecutor(self._broken) from None
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop gathering; parts still out are cancelled; the run's keys are deleted."""
        if self._closing.is_set():
            return
        if wait and not cancel_futures:
            for part in list(self._parts.values()):
                # A failed part: the caller has seen it, or will not ask.
                with contextlib.suppress(Exception):
                    part.future.result()
        self._closing.set()
        self._gatherer.join()
        self._taker.shutdown(wait=wait, cancel_futures=True)
        with self._lock:
            for part in self._parts.values():
                part.future.cancel()
        self._clean()
        self._close_connections()

    def _close_connections(self) -> None:
        """Close this executor's broker connections now: kombu closes pooled ones again
        in any process forked later (a pool made after this solve), and a connection
        left in the middle of a blocking read would hang that process."""
        with contextlib.suppress(Exception):
            self._producer.release()
        with contextlib.suppress(Exception):
            self._connection.close()
        with contextlib.suppress(Exception):  # the app's own pool (remote control uses it)
            if self._app._pool is not None:
                self._app._pool.force_close_all()
        self._app.close()
        self._r.close()

    # -- what happened ---------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """Parts sent, answered by workers, and the late ones (taken back, with why)."""
        with self._lock:
            return {
                "executor": "celery",
                "run": self.run,
                "parts": self._seq,
                "answered_by_workers": self._on_workers,
                "late": [dict(row) for row in self._late],
                "broker_lost": self._broken,
            }

    def capacity(self) -> int:
        """Pool processes of the workers beating now (0 if none, or no broker).

        Read from the workers' own heartbeats (``"<pid> <concurrency>"``), not from
        Celery's remote control: that would leave a connection in the middle of a
        blocking read, which a process pool forked later inherits and hangs on.
        """
        try:
            keys = list(self._r.scan_iter(f"{WORKERS}*", count=1000))
            values = self._r.mget(keys) if keys else []
        except self._errors:
            return 0
        total = 0
        for value in values:
            if value is not None:
                _pid, _, n = value.decode().partition(" ")
                total += int(n) if n.isdigit() else 1
        return total

    # -- the gatherer ----------------------------------------------------------

    def _gather(self) -> None:
        next_check = 0.0
        while not self._closing.is_set():
            try:
                item = self._r.blpop([done_list(self.run)], timeout=POLL)
                if item is not None:
                    self._collect(item[1].decode())
                if time.monotonic() >= next_check:
                    self._check()
                    next_check = time.monotonic() + POLL
            except self._errors as exc:
                self._break(f"the broker was lost ({exc})")
                return
            except Exception:  # a bug here must not leave the solver waiting forever
                log.exception("scale-out: the gatherer failed")
                self._break("the gatherer failed")
                return

    def _collect(self, key: str) -> None:
        part = self._parts.get(key)
        data = self._r.get(part_key(key, "out"))
        self._r.delete(part_key(key, "in"), part_key(key, "out"))
        self._last_progress = time.monotonic()
        if part is None or data is None:
            return
        status, value, seconds = wire.loads(data)
        with self._lock:
            self.timings.append(
                {
                    "kind": part.kind.name,
                    "sent": part.sent,
                    "answered": time.monotonic(),
                    "seconds": seconds,
                    "in_bytes": part.in_bytes,
                    "out_bytes": len(data),
                    "by": "worker",
                }
            )
            if part.future.done():
                return
            self._on_workers += 1
            if status == "ok":
                part.future.set_result(value)
            else:
                part.future.set_exception(RemoteError(f"part {key} failed on its worker: {value}"))

    def _check(self) -> None:
        with self._lock:
            out = [p for p in self._parts.values() if p.taken is None and not p.future.done()]
        if not out:
            return
        pipe = self._r.pipeline(transaction=False)
        for p in out:
            pipe.get(part_key(p.key, "started"))
        hosts = [h.decode() if h is not None else None for h in pipe.execute()]
        names = sorted({h for h in hosts if h is not None})
        pipe = self._r.pipeline(transaction=False)
        for name in names:
            pipe.exists(worker_key(name))
        alive = dict(zip(names, pipe.execute(), strict=True))
        now = time.monotonic()
        for p, host in zip(out, hosts, strict=True):
            if host is not None:
                if p.host != host:  # started, or started again after a redelivery
                    self._last_progress = now
                    p.host, p.last_beat = host, now
                if alive[host]:
                    p.last_beat = now
        # A part of this run is being solved by a live worker: the parts queued
        # behind it are waiting their turn, not lost.
        busy = any(
            p.host is not None and p.last_beat is not None and now - p.last_beat <= 1.0 for p in out
        )
        for p in out:
            if p.budget is not None and now - p.sent > p.budget + max(OVERDUE_MIN, p.budget):
                self._take_back(p, f"overdue: not answered {now - p.sent:.0f} s after it was sent")
            elif p.last_beat is not None and now - p.last_beat > self.stale_after:
                silent = f"{now - p.last_beat:.0f} s without heartbeat"
                self._take_back(p, f"its worker {p.host} stopped ({silent})")
            elif (
                p.host is None
                and not busy
                and now - max(p.sent, self._last_progress) > self.stall_after
            ):
                self._take_back(p, f"no worker took it in {self.stall_after:.0f} s")

    # -- taking parts back -------------------------------------------------------

    def _take_back(self, part: _Part, reason: str) -> None:
        now = time.monotonic()
        with self._lock:
            if part.taken is not None or part.future.done():
                return
            part.taken = reason
            self._late.append(
                {
                    "part": part.key,
                    "kind": part.kind.name,
                    "reason": reason,
                    "after_s": round(now - part.sent, 1),
                }
            )
        log.warning("scale-out: part %s solved in-process: %s", part.key, reason)
        if self._broken is None:
            # A worker that gets the message later skips it.
            with contextlib.suppress(*self._errors):
                self._r.set(part_key(part.key, "taken"), 1, ex=KEY_TTL)
        args = part.args
        if part.budget is not None:
            args = part.kind.shrink(args, part.sent + part.budget - now)
        try:
            self._taker.submit(self._solve_here, part, args)
        except RuntimeError:  # shutting down: nobody waits for it any more
            part.future.cancel()

    def _solve_here(self, part: _Part, args: Args) -> None:
        if part.future.done():
            return
        try:
            answer = part.kind.function(*args)
        except Exception as exc:
            with self._lock:
                if not part.future.done():
                    part.future.set_exception(exc)
            return
        with self._lock:
            if not part.future.done():
                part.future.set_result(answer)

    def _break(self, why: str) -> None:
        with self._lock:
            if self._broken is None:
                self._broken = why
                log.warning("scale-out: %s; the parts still out are solved in-process", why)
            out = [p for p in self._parts.values() if p.taken is None and not p.future.done()]
        for p in out:
            self._take_back(p, why)

    def _clean(self) -> None:
        if self._broken is not None:
            return
        keys = [part_key(k, w) for k in self._parts for w in ("in", "out", "started")]
        try:
            for i in range(0, len(keys), 1000):
                self._r.delete(*keys[i : i + 1000])
            self._r.delete(done_list(self.run))
        except self._errors:
            log.info("scale-out: the run's keys were left to expire (%s)", self.run)


@contextmanager
def celery_executor(broker_url: str, *, label: str = "solve") -> Iterator[CeleryExecutor]:
    """A :class:`CeleryExecutor` on ``broker_url``, shut down (keys cleaned) on exit."""
    executor = CeleryExecutor(broker_url, label=label)
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
