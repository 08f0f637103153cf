"""Benchmark: ``audit verify`` over a long archive.

    python -m bench.audit --events 1000000 [--url postgresql://…]

Fills a fresh database (a temporary SQLite file unless ``--url`` names an empty
database) with ``--events`` chained events — built in bulk with the same hash
function ``engine.audit.record`` uses, since appending a million events one
transaction at a time measures the disk, not the archive — then times
``engine.audit.verify`` over them and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from engine import audit
from engine.config import Settings
from engine.db.migrate import upgrade_database
from engine.db.session import Database, make_engine
from engine.models import AuditEvent, AuditHead

CHUNK = 20_000


def fill(db: Database, events: int) -> None:
    """Append ``events`` realistic events after the current head, in bulk."""
    with db.session() as s:
        head = audit.head(s)
        prev, seq = head.hash, head.seq
        start = datetime(2026, 11, 28, 8, tzinfo=UTC)
        rows = []
        for i in range(events):
            seq += 1
            at = start + timedelta(milliseconds=i)
            after = audit.canonical_json(
                {
                    "org": "crt",
                    "ref": f"R{i}",
                    "category": "food.basket",
                    "quantity": 2,
                    "priority": 3,
                    "region": "TN-42",
                    "status": "open",
                }
            )
            personal = audit.canonical_json(
                {
                    "data": {"name": f"Name {i}", "phone": "+216 20 000 000"},
                    "salt": secrets.token_hex(16),
                }
            )
            digest = audit._sha256(personal)
            h = audit.event_hash(
                prev, seq, at, "import", "request.add", "request", str(i), None, after, digest
            )
            rows.append(
                {
                    "seq": seq,
                    "at": at,
                    "actor": "import",
                    "action": "request.add",
                    "entity_type": "request",
                    "entity_id": str(i),
                    "before": None,
                    "after": after,
                    "personal": personal,
                    "personal_digest": digest,
                    "prev_hash": prev,
                    "hash": h,
                }
            )
            prev = h
            if len(rows) == CHUNK:
                s.execute(insert(AuditEvent.__table__), rows)
                rows = []
        if rows:
            s.execute(insert(AuditEvent.__table__), rows)
        s.execute(update(AuditHead.__table__).values(seq=seq, hash=prev))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", help="an empty database (default: a temporary SQLite file)")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = ns.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade_database(Settings.from_env({"JESSR_DATABASE_URL": url}, cwd=tmp))
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":  # the bulk head move skips events
            with engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE audit_head DISABLE TRIGGER USER")
        db = Database(engine)
        t0 = time.perf_counter()
        fill(db, ns.events)
        t1 = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE audit_head ENABLE TRIGGER USER")
        with db.session() as s:
            result = audit.verify(s)
        t2 = time.perf_counter()
        db.close()
    assert result.ok, result.problem
    print(
        json.dumps(
            {
                "database": engine.dialect.name,
                "events": result.events,
                "fill_s": round(t1 - t0, 1),
                "verify_s": round(t2 - t1, 1),
                "verify_events_per_s": round(result.events / (t2 - t1)),
            }
        )
    )


if __name__ == "__main__":
    main()
