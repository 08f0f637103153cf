"""Appends from concurrent processes never fork or reorder the chain: real processes
append at once; the chain verifies, no seq is lost or duplicated, and each
process's events keep their commit order."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from engine import audit
from engine.models import AuditEvent

WORKER = r"""
import os, secrets, sys, time
from pathlib import Path
from engine import audit
from engine.db.session import Database, make_engine
from engine.models import Household

url, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
db = Database(make_engine(url))
while not go.exists():
    time.sleep(0.005)
for i in range(count):
    with db.session() as s:
        if i % 2:  # half the transactions write another row before their event
            s.add(Household(pseudonym=secrets.token_hex(32)))
            s.flush()
        audit.record(s, name, "test.append", "worker", name, after={"i": i})
db.close()
"""

PROCESSES = 4
EVENTS = 25


def test_concurrent_processes_append_one_unbroken_chain(database, tmp_path: Path):
    go = tmp_path / "go"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, database.url, f"p{k}", str(EVENTS), str(go)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(PROCESSES)
    ]
    time.sleep(1.0)  # let every process import and wait at the gate
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    with database.session() as s:
        rows = s.execute(
            select(AuditEvent.seq, AuditEvent.actor, AuditEvent.after).order_by(AuditEvent.seq)
        ).all()
        base = 1  # the reference sync event of `db upgrade`
        assert [r.seq for r in rows] == list(range(1, base + PROCESSES * EVENTS + 1))
        for k in range(PROCESSES):
            mine = [r.after for r in rows if r.actor == f"p{k}"]
            assert mine == [f'{{"i":{i}}}' for i in range(EVENTS)]
        result = audit.verify(s)
        assert result.ok, result.problem
        assert audit.head(s).seq == base + PROCESSES * EVENTS
