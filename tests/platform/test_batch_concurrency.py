"""The batch under real processes: racing publishes, and runs and publishes killed midway."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from engine.models import Allocation, Batch, Organization, Request
from tests.platform import factories as f
from tests.platform.batch_days import (
    DAY,
    jessr_process,
    lot_invariant_problems,
    make_day,
    next_day,
)
from tests.platform.conftest import TestDatabase

FAST = ("--iterations", "20", "--workers", "1")


def _draft(database: TestDatabase, day: str) -> int:
    result = database.cli("batch", "run", "--date", day, *FAST, "--json")
    assert result.code == 0, result.err
    return int(json.loads(result.out)["id"])


def test_two_publishes_of_drafts_sharing_a_lot_at_once(database: TestDatabase) -> None:
    """Drafts of two dates count on the same lot (10 units, each wants 8) but on different
    requests; published at the same moment from two processes, exactly one wins."""
    with database.session() as s:
        org = f.make_org(s)
        site = f.make_site(s, org)
        f.make_lot(s, org, "L1", 10, site=site)
        for i in range(4):
            f.make_request(s, org, f"A{i}", at=(36.8 + 0.01 * i, 10.18), region="TN-11", quantity=2)
        f.make_volunteer(s, org, "V1")
        s.commit()
    first = _draft(database, DAY.isoformat())
    with database.session() as s:  # the next day's draft sees only its own requests
        for r in s.execute(select(Request)).scalars():
            r.status = "failed"
        org = s.execute(select(Organization)).scalar_one()
        for i in range(4):
            f.make_request(
                s,
                org,
                f"B{i}",
                at=(36.8 + 0.01 * i, 10.19),
                region="TN-11",
                quantity=2,
                filed=DAY + timedelta(days=1),
            )
        s.commit()
    second = _draft(database, next_day())
    with database.session() as s:
        for r in s.execute(select(Request).where(Request.ref.like("A%"))).scalars():
            r.status = "open"
        s.commit()

    racers = [jessr_process(database, "batch", "publish", str(b)) for b in (first, second)]
    results = [(p.wait(timeout=120), p.communicate()) for p in racers]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3], results
    loser = next(out for code, out in results if code == 3)
    assert "run the batch again" in loser[1]
    with database.session() as s:
        assert lot_invariant_problems(s) == []
        statuses = Counter(s.execute(select(Batch.status)).scalars())
        assert statuses == Counter({"published": 1, "draft": 1})


def _no_partial_rows(database: TestDatabase) -> None:
    with database.session() as s:
        for batch in s.execute(select(Batch)).scalars():
            stored = len(json.loads(batch.plan)["allocations"])
            rows = s.scalar(
                select(func.count()).select_from(Allocation).where(Allocation.batch_id == batch.id)
            )
            assert rows == stored, f"batch {batch.id}: {rows} allocation rows, plan has {stored}"
        assert lot_invariant_problems(s) == []
        allocated = set(
            s.execute(
                select(Allocation.request_id)
                .join(Batch, Batch.id == Allocation.batch_id)
                .where(Batch.status == "published")
            ).scalars()
        )
        marked = set(s.execute(select(Request.id).where(Request.status == "allocated")).scalars())
        assert allocated == marked
        drafts = Counter(
            s.execute(select(Batch.date).where(Batch.status == "draft")).scalars()
        ).values()
        assert all(n == 1 for n in drafts)


def _kill_after(database: TestDatabase, delay: float, *args: str) -> bool:
    """Start ``jessr ARGS``, SIGKILL it after ``delay`` s; True if it was still running."""
    process = jessr_process(database, *args)
    time.sleep(delay)
    running = process.poll() is None
    if running:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    return running


def test_runs_and_publishes_killed_at_random_moments_leave_no_partial_rows(
    database: TestDatabase,
) -> None:
    with database.session() as s:
        make_day(s, requests=60, lots=4, volunteers=3)
    rng = random.Random(21)
    killed = 0
    for _trial in range(3):
        killed += _kill_after(
            database, rng.uniform(0.5, 4.0), "batch", "run", "--date", DAY.isoformat(), *FAST
        )
        _no_partial_rows(database)
        with database.session() as s:
            draft = s.scalar(select(Batch.id).where(Batch.status == "draft"))
        if draft is None:
            draft = _draft(database, DAY.isoformat())
        killed += _kill_after(database, rng.uniform(0.5, 3.0), "batch", "publish", str(draft))
        _no_partial_rows(database)
    assert killed  # at least one process died midway (each takes seconds to start and run)
    rerun = _draft(database, DAY.isoformat())
    published = database.cli("batch", "publish", str(rerun))
    assert published.code == 0, published.err
    _no_partial_rows(database)
    assert database.cli("audit", "verify").code == 0


def test_the_same_draft_published_twice_at_once(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s, requests=4, lots=1)
    draft = _draft(database, DAY.isoformat())
    racers = [jessr_process(database, "batch", "publish", str(draft)) for _ in range(2)]
    codes = sorted(p.wait(timeout=120) for p in racers)
    for p in racers:
        p.communicate()
    assert codes == [0, 3]
    with database.session() as s:
        assert lot_invariant_problems(s) == []
