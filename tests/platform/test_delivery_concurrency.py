"""N delivery reports on allocations of one lot, from real processes at once: every
allocation changes exactly once, stock never goes negative nor is counted twice, the
archive holds one event per change and still verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from engine import audit
from engine.models import Allocation, AuditEvent, Delivery, Request, SupplyLot
from tests.platform.batch_factories import make_allocation, make_batch
from tests.platform.factories import make_lot, make_org, make_request, make_volunteer

# Waits for the gate file, then runs `jessr delivery …` in this process.
WORKER = r"""
import sys, time
from pathlib import Path
go = Path(sys.argv[1])
from engine.cli import main  # import before the gate: the race is the report itself
while not go.exists():
    time.sleep(0.005)
sys.exit(main(sys.argv[2:]))
"""

ALLOCATIONS = 6  # each picked up; reported delivered or failed by two processes at once


def test_parallel_reports_on_one_lot_change_each_allocation_once(database, tmp_path: Path):
    with database.session() as s:
        org = make_org(s)
        lot = make_lot(s, org, "L1", quantity=ALLOCATIONS * 2)
        volunteer = make_volunteer(s, org)
        batch = make_batch(s)
        for k in range(ALLOCATIONS):
            request = make_request(s, org, f"R{k}", quantity=2)
            make_allocation(s, batch, f"A{k}", lot, request, 2, volunteer, status="picked_up")
        s.commit()
        batch_id, lot_id = batch.id, lot.id
        events_before = audit.head(s).seq

    go = tmp_path / "go"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, **database.env(), "PYTHONPATH": str(root)}
    jobs = []  # (allocation, kind) — two processes per allocation, racing each other
    for k in range(ALLOCATIONS):
        kinds = ("delivered", "delivered") if k % 2 == 0 else ("delivered", "failed")
        jobs += [(f"A{k}", kind) for kind in kinds]
    procs = []
    for plan_id, kind in jobs:
        args = ["delivery", f"{batch_id}/{plan_id}", kind]
        if kind == "failed":
            args += ["--reason", "nobody home"]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(go), *args],
                env=env,
                cwd=database.workdir,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    time.sleep(2.0)  # let every process import and wait at the gate
    go.touch()
    results: dict[str, list[tuple[str, int]]] = {}
    for (plan_id, kind), proc in zip(jobs, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 3), (proc.returncode, out, err)
        assert "Traceback" not in err
        results.setdefault(plan_id, []).append((kind, proc.returncode))

    # Exactly one report per allocation won; the other found it already changed.
    for plan_id, outcome in results.items():
        assert sorted(code for _, code in outcome) == [0, 3], (plan_id, outcome)

    with database.session() as s:
        winners = {
            a.plan_id: a.status
            for a in s.execute(select(Allocation).where(Allocation.batch_id == batch_id)).scalars()
        }
        for plan_id, outcome in results.items():
            won = next(kind for kind, code in outcome if code == 0)
            assert winners[plan_id] == won
        delivered = sum(2 for status in winners.values() if status == "delivered")
        lot = s.get(SupplyLot, lot_id)
        assert (lot.quantity_reserved, lot.quantity_delivered) == (0, delivered)
        assert lot.quantity_reserved + lot.quantity_delivered <= lot.quantity_received
        reports = s.execute(select(Delivery.allocation_id, Delivery.kind)).all()
        assert len(reports) == ALLOCATIONS  # one report row per allocation
        assert len({r.allocation_id for r in reports}) == ALLOCATIONS
        statuses = sorted(s.execute(select(Request.status)).scalars())
        assert statuses == sorted(
            "delivered" if status == "delivered" else "open" for status in winners.values()
        )
        # One allocation event, one lot event and one request event per winning report.
        actions = (
            s.execute(select(AuditEvent.action).where(AuditEvent.seq > events_before))
            .scalars()
            .all()
        )
        assert len(actions) == 3 * ALLOCATIONS
        assert sum(a.startswith("delivery.") for a in actions) == ALLOCATIONS
        result = audit.verify(s)
        assert result.ok, result.problem


PARTS = 4  # one request split over PARTS allocations, all delivered at once


def test_parts_of_one_request_delivered_at_once_close_it(database, tmp_path: Path):
    with database.session() as s:
        org = make_org(s)
        volunteer = make_volunteer(s, org)
        request = make_request(s, org, "R1", quantity=PARTS)
        batch = make_batch(s)
        for k in range(PARTS):
            lot = make_lot(s, org, f"L{k}", quantity=1)
            make_allocation(s, batch, f"A{k}", lot, request, 1, volunteer, status="picked_up")
        s.commit()
        batch_id, request_id = batch.id, request.id
    go = tmp_path / "go"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, **database.env(), "PYTHONPATH": str(root)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(go), "delivery", f"{batch_id}/A{k}", "delivered"],
            env=env,
            cwd=database.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(PARTS)
    ]
    time.sleep(2.0)
    go.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
    with database.session() as s:
        request = s.get(Request, request_id)
        assert request.status == "delivered" and request.closed_at is not None
        lots = s.execute(select(SupplyLot)).scalars().all()
        assert [(lot.quantity_reserved, lot.quantity_delivered) for lot in lots] == [(0, 1)] * PARTS
        closing = (
            s.execute(select(AuditEvent).where(AuditEvent.action == "request.delivered"))
            .scalars()
            .all()
        )
        assert len(closing) == 1
        assert audit.verify(s).ok
