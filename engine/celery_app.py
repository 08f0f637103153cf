"""The Celery application of the scale-out: one task, ``jessr.part``.

A message says only *which* part to solve: ``(key, kind)``, where ``key`` is
``<run>:<n>`` (a run of the executor, the part's number in it) and ``kind`` a
name of :mod:`engine.parts`. The part's input waits in Redis under
``jessr:part:<key>:in`` as an :mod:`engine.wire` payload (compressed JSON of
numbers, coordinates and ids), the answer goes to ``jessr:part:<key>:out`` the
same way, and the key is pushed on the run's ``done`` list. Large matrices and
routes therefore never ride in a broker message, and a message holds no
personal field by construction.

Fault behaviour (celery issues #7918, #7651 are why the numbers matter):

* **late acknowledgement** (``task_acks_late``) and ``reject_on_worker_lost``: a
  message is acknowledged when its part is done, so a part whose pool process
  dies is put back on the queue at once by the worker's main process, and one
  whose whole host is lost comes back after the visibility timeout;
* the Redis transport's **visibility timeout** (:data:`VISIBILITY_TIMEOUT`, 2 h)
  is above the longest part the engine sends: a part whose time budget is over
  half of it is solved by the caller instead (:mod:`engine.remote`); a longer
  part would be redelivered to a second worker while the first still runs;
* **idempotent**: a part whose answer is stored, or that the caller has taken
  back (``:taken``), is not solved again; the answer is written with ``SET NX``,
  so a duplicate delivery changes nothing;
* **heartbeat**: a part records which worker started it (``:started``), and
  every ``jessr worker`` refreshes ``jessr:worker:<name>`` every
  :data:`BEAT_EVERY` seconds with a :data:`BEAT_TTL` expiry, from its main
  process: a pool process busy in a solver that holds the GIL (VROOM does for
  seconds) could not beat on time, the main process can. The caller takes back
  in-process (:mod:`engine.remote`) a part whose worker stopped beating, instead
  of waiting for the redelivery; a pool process that dies alone is replaced and
  its part redelivered at once by the worker's main process;
* ``worker_prefetch_multiplier = 1``: a worker process reserves one part at a
  time, so parts queued behind a long one go to whichever worker frees first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

from celery import Celery

log = logging.getLogger(__name__)

QUEUE = "jessr.parts"
PREFIX = "jessr:part:"
VISIBILITY_TIMEOUT = 7200  # s; twice the longest part sent to a worker
KEY_TTL = 6 * 3600  # s: a run's inputs and answers expire even if its caller died
BEAT_EVERY = 1.0  # s between heartbeats of a running part
BEAT_TTL = 4  # s: a heartbeat missing this long means the part's worker is gone


def part_key(key: str, what: str) -> str:
    """The Redis key of part ``key``'s ``what`` (``in``, ``out``, ``started``, ``taken``)."""
    return f"{PREFIX}{key}:{what}"


WORKERS = "jessr:worker:"


def worker_key(name: str) -> str:
    """The heartbeat key of the worker named ``name`` (its Celery node name)."""
    return f"{WORKERS}{name}"


def done_list(run: str) -> str:
    """The Redis list on which the workers push the keys of a run's finished parts."""
    return f"{PREFIX}{run}:done"


def make_app(broker_url: str) -> Celery:
    """The Celery app on ``broker_url`` (Redis), with the ``jessr.part`` task."""
    app = Celery("jessr", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # answers go to Redis keys, not a result backend
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        # A caller whose broker is down must hear it in seconds, not retry for minutes.
        broker_connection_timeout=2,
        broker_connection_max_retries=1,
    )

    @app.task(
        name="jessr.part", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True
    )
    def part(self: Any, key: str, kind: str) -> str:
        return run_part(broker_url, key, kind, str(self.request.hostname or "?"))

    return app


_clients: dict[str, Any] = {}


def _redis(url: str) -> Any:
    """One Redis client per URL and process (a pool process reuses its connection)."""
    import redis

    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=30)
    return client


def run_part(broker_url: str, key: str, kind: str, worker: str) -> str:
    """What a worker does with one message: solve part ``key`` once, store the answer.

    ``worker`` is the node name whose heartbeat vouches for the part while it
    runs. Returns what happened (``solved``, ``duplicate``, ``taken``,
    ``expired``), for the worker's log; the caller reads the answer from Redis.
    """
    from engine import parts, wire

    r = _redis(broker_url)
    if r.exists(part_key(key, "out")):
        return "duplicate"
    if r.exists(part_key(key, "taken")):
        return "taken"
    data = r.get(part_key(key, "in"))
    if data is None:
        return "expired"  # the run ended (or its keys expired): nobody waits for it
    r.set(part_key(key, "started"), worker, ex=KEY_TTL)
    k = parts.kinds()[kind]
    began = time.perf_counter()
    try:
        answer: tuple[str, Any, float] = (
            "ok",
            k.function(*k.inbound(tuple(wire.loads(data)))),
            time.perf_counter() - began,
        )
    except Exception as exc:  # the caller hears it (and may solve the part itself)
        log.exception("part %s failed", key)
        answer = ("error", f"{type(exc).__name__}: {exc}", time.perf_counter() - began)
    if not r.set(part_key(key, "out"), wire.dumps(answer), nx=True, ex=KEY_TTL):
        return "duplicate"  # another delivery of this message answered first
    run = key.rsplit(":", 1)[0]
    pipe = r.pipeline(transaction=True)
    pipe.rpush(done_list(run), key)
    pipe.expire(done_list(run), KEY_TTL)
    pipe.execute()
    return "solved"


def beat_forever(broker_url: str, name: str, stop: threading.Event, concurrency: int) -> None:
    """Refresh worker ``name``'s heartbeat until ``stop`` (a thread of its main process).

    The heartbeat's value is ``"<pid> <concurrency>"``: the callers count the pool
    processes at hand from the live heartbeats (:meth:`engine.remote.CeleryExecutor.capacity`).
    """
    import redis

    # Its own client: the pool processes forked later must not share its socket.
    r = redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=2)
    while True:
        try:
            r.set(worker_key(name), f"{os.getpid()} {concurrency}", ex=BEAT_TTL)
        except redis.RedisError:  # the broker is away: the callers take the parts back
            log.warning("worker heartbeat not sent", exc_info=True)
        if stop.wait(BEAT_EVERY):
            with contextlib.suppress(redis.RedisError):
                r.delete(worker_key(name))
            return
