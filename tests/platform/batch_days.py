"""Small days for the batch tests: a few lots, requests and volunteers around Tunis,
and the ``jessr`` command line run as a real process (for races and kills)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Allocation, Batch, SupplyLot
from tests.platform import factories as f
from tests.platform.conftest import TestDatabase

DAY = f.DAY
ROOT = Path(__file__).resolve().parents[2]


def make_day(session: Session, requests: int = 6, lots: int = 2, volunteers: int = 1) -> None:
    """``requests`` open requests of 2 baskets near Tunis, ``lots`` lots of 10 baskets,
    ``volunteers`` volunteers available every day; committed."""
    org = f.make_org(session)
    site = f.make_site(session, org)
    for i in range(lots):
        f.make_lot(session, org, f"L{i + 1}", 10, site=site)
    for i in range(requests):
        f.make_request(
            session,
            org,
            f"R{i + 1}",
            at=(36.80 + 0.01 * (i % 10), 10.18 + 0.01 * (i // 10)),
            region="TN-11",
            quantity=2,
        )
    for i in range(volunteers):
        f.make_volunteer(session, org, f"V{i + 1}")
    session.commit()


def next_day(day: date = DAY, n: int = 1) -> str:
    """The ISO date ``n`` days after ``day``."""
    return (day + timedelta(days=n)).isoformat()


def jessr_process(database: TestDatabase, *args: str) -> subprocess.Popen[str]:
    """Start ``jessr ARGS`` as a separate process on ``database`` (this checkout's code)."""
    env = {**os.environ, **database.env(), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=database.workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def lot_invariant_problems(session: Session) -> list[str]:
    """Lots whose stock or reservations are inconsistent with the published allocations.

    For every lot: ``reserved + delivered <= received``, and ``reserved`` equals the units
    of its published batches' allocations (the tests record no deliveries).
    """
    published = dict(
        session.execute(
            select(Allocation.lot_id, func.sum(Allocation.quantity))
            .join(Batch, Batch.id == Allocation.batch_id)
            .where(Batch.status == "published", Allocation.status != "failed")
            .group_by(Allocation.lot_id)
        ).all()
    )
    problems = []
    for lot in session.execute(select(SupplyLot)).scalars():
        if lot.quantity_reserved + lot.quantity_delivered > lot.quantity_received:
            problems.append(f"lot {lot.ref} over-allocated")
        if lot.quantity_reserved != published.get(lot.id, 0):
            problems.append(
                f"lot {lot.ref}: reserved {lot.quantity_reserved}, "
                f"published allocations {published.get(lot.id, 0)}"
            )
    return problems


def make_line_day(session: Session, requests: int = 8) -> None:
    """A day with one best route and no tie: stock at the depot in Tunis, the volunteer
    living 22 km north, requests on the road between; committed.

    Replay tests use it because VROOM breaks exact ties (a route and its mirror, of equal
    length) differently from run to run, even bounded by iterations.
    """
    org = f.make_org(session)
    site = f.make_site(session, org)
    f.make_lot(session, org, "L1", 4 * requests, site=site)
    lat, lon = f.TUNIS
    for i in range(requests):
        f.make_request(
            session, org, f"R{i + 1}", at=(lat + 0.02 * (i + 1), lon), region="TN-11", quantity=2
        )
    f.make_volunteer(session, org, "V1", at=(lat + 0.2, lon))
    session.commit()
