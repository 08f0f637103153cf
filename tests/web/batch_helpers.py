"""Helpers of the batch pages' tests: more open requests in the world, a fresh
draft of the next day, waiting for background jobs."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from engine.models import Organization
from tests.platform import factories as f
from tests.platform.conftest import TestDatabase
from tests.web.world import NEXT_DAY, TUNIS
from web.coordinator.batch.runner import THREADS

BATCHES = "/coordinator/batches"


def add_requests(
    database: TestDatabase,
    n: int = 4,
    category: str = "food.basket",
    org: str = "crt",
    region: str = "TN-11",
    prefix: str = "X",
    priority: int = 3,
) -> None:
    """``n`` open requests of 2 units of ``category`` near Tunis for ``org``."""
    with database.session() as s:
        row = s.execute(select(Organization).where(Organization.code == org)).scalar_one()
        for i in range(n):
            f.make_request(
                s,
                row,
                f"{prefix}{i + 1}",
                at=(TUNIS[0] + 0.004 * (i + 1), TUNIS[1] + 0.003 * (i % 3)),
                region=region,
                category=category,
                quantity=2,
                priority=priority,
                phone=f"+216 22 111 00{i}",
                name=f"Household {prefix}{i + 1}",
            )
        s.commit()


def fresh_draft(database: TestDatabase, iterations: int = 30) -> int:
    """Run the next day's batch with the command line; the new draft's id."""
    run = database.cli(
        "batch",
        "run",
        "--date",
        NEXT_DAY.isoformat(),
        "--iterations",
        str(iterations),
        "--workers",
        "1",
        "--json",
    )
    assert run.code == 0, run.err
    return int(json.loads(run.out)["id"])


def wait_for_jobs(app: Flask, seconds: float = 120) -> None:
    """Wait for the background jobs the app started."""
    for thread in list(app.extensions.get(THREADS, [])):
        thread.join(seconds)
        assert not thread.is_alive(), "a batch job did not finish"


def job_id_of(location: str) -> int:
    match = re.search(r"/jobs/(\d+)$", location)
    assert match, location
    return int(match.group(1))


def plan_of(database: TestDatabase, batch_id: int) -> dict[str, Any]:
    from engine.models import Batch

    with database.session() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None
        return json.loads(batch.plan)
