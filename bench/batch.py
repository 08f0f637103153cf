"""Benchmark: the database layer of the daily batch on a national day.

    python -m bench.batch [--requests 50000 --lots 5000 --volunteers 2000]
                          [--time-limit 60] [--postgres postgresql://…/admin-db]

Generates a day with :func:`engine.generate.generate_scenario`, loads its rows
into a fresh database with bulk inserts (the import commands are benchmarked
apart), then times what ``jessr batch run`` and ``jessr batch publish`` spend in
the database: the snapshot (:func:`engine.snapshot.snapshot`), storing the
draft (:func:`engine.batch.store_draft`, commit included) and publishing it
(:func:`engine.batch.publish`, commit included). The solve runs once, on the
SQLite snapshot, with ``--time-limit`` seconds; the same plan is then stored
and published on each database (their snapshots are byte-identical, which the
run checks). SQLite is a temporary file; ``--postgres`` names a server's
database to connect to for administration, where a scratch database is
created and dropped. Prints one JSON line per database.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from datetime import date
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from engine.batch import publish, sha256_text, store_draft
from engine.config import Settings
from engine.db.migrate import upgrade_database
from engine.db.session import Database, make_engine
from engine.models import Household, Organization, Request, SupplyLot, Volunteer
from engine.params import DayParams
from engine.snapshot import Snapshot, scenario_text, snapshot

CHUNK = 10_000


def _clock(text_value: str) -> time_of_day:
    hours, minutes = text_value.split(":")
    return time_of_day(int(hours) % 24, int(minutes))


def load(db: Database, doc: dict[str, Any]) -> None:
    """Insert the generated day's organizations, lots, households, requests, volunteers."""
    with db.session() as s:
        codes = sorted({x.get("org") or "crt" for x in doc["supplies"]} | {"crt"})
        s.execute(
            insert(Organization),
            [{"code": c, "name": c.upper(), "region_code": "TN-11"} for c in codes],
        )
        org_id = dict(s.execute(select(Organization.code, Organization.id)).all())
        lots = [
            {
                "org_id": org_id[x.get("org") or "crt"],
                "ref": x["id"],
                "category_id": x["category"],
                "lat": x["lat"],
                "lon": x["lon"],
                "region_code": x["region"],
                "quantity_received": x["quantity"],
                "quantity_reserved": 0,
                "quantity_delivered": 0,
                "expires": date.fromisoformat(x["expires"]) if x.get("expires") else None,
                "regions": x.get("regions"),
            }
            for x in doc["supplies"]
        ]
        for i in range(0, len(lots), CHUNK):
            s.execute(insert(SupplyLot), lots[i : i + CHUNK])
        households = [{"pseudonym": secrets.token_hex(32)} for _ in doc["requests"]]
        for i in range(0, len(households), CHUNK):
            s.execute(insert(Household), households[i : i + CHUNK])
        household_ids = list(s.execute(select(Household.id).order_by(Household.id)).scalars())
        crt = org_id["crt"]
        requests = []
        for x, hid in zip(doc["requests"], household_ids, strict=True):
            window = x.get("window")
            requests.append(
                {
                    "org_id": crt,
                    "ref": x["id"],
                    "household_id": hid,
                    "category_id": x["category"],
                    "quantity": x["quantity"],
                    "priority": x["priority"],
                    "region_code": x["region"],
                    "lat": x["lat"],
                    "lon": x["lon"],
                    "filed": date.fromisoformat(x["filed"]),
                    "window_start": _clock(window[0]) if window else None,
                    "window_end": _clock(window[1]) if window else None,
                    "status": "open",
                }
            )
        for i in range(0, len(requests), CHUNK):
            s.execute(insert(Request), requests[i : i + CHUNK])
        s.execute(
            insert(Volunteer),
            [
                {
                    "org_id": crt,
                    "ref": v["id"],
                    "vehicle": v.get("vehicle"),
                    "capacity_kg": v["capacity_kg"],
                    "home_lat": v["lat"],
                    "home_lon": v["lon"],
                    "shift_start": _clock(v["shift"][0]),
                    "shift_end": _clock(v["shift"][1]),
                    "speed_kmh": v.get("speed_kmh"),
                }
                for v in doc["volunteers"]
            ],
        )


def measure(db: Database, day: date, plan_text: str | None, params: DayParams) -> dict[str, Any]:
    """Time snapshot, store and publish on ``db``; solves when ``plan_text`` is None."""
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    with db.session() as s:
        snap: Snapshot = snapshot(s, day)
    figures["snapshot_s"] = round(time.perf_counter() - started, 3)
    scenario = scenario_text(snap.scenario)
    figures["scenario_sha256"] = sha256_text(scenario)
    if plan_text is None:
        from engine.executors import process_pool
        from engine.scenario.writer import plan_to_dict
        from engine.snapshot import document_text
        from engine.solve import solve_scenario

        started = time.perf_counter()
        with process_pool(params.workers) as executor:
            outcome = solve_scenario(snap.scenario, params, executor=executor)
        figures["solve_s"] = round(time.perf_counter() - started, 3)
        plan_text = document_text(plan_to_dict(outcome.plan))
    figures["plan_text"] = plan_text
    started = time.perf_counter()
    with db.session() as s:
        batch_id = store_draft(s, snap, scenario, plan_text, params, "bench").id
    figures["store_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    with db.session() as s:
        publish(s, batch_id, "bench")
    figures["publish_s"] = round(time.perf_counter() - started, 3)
    figures["allocations"] = len(json.loads(plan_text)["allocations"])
    figures["db_s"] = round(figures["snapshot_s"] + figures["store_s"] + figures["publish_s"], 3)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--lots", type=int, default=5_000)
    parser.add_argument("--volunteers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (optional)")
    ns = parser.parse_args(argv)

    from engine.generate import generate_scenario

    started = time.perf_counter()
    doc = generate_scenario(
        requests=ns.requests, supplies=ns.lots, volunteers=ns.volunteers, seed=ns.seed
    )
    day = date.fromisoformat(doc["date"])
    generated = time.perf_counter() - started
    params = DayParams(time_limit=ns.time_limit, seed=ns.seed, workers=ns.workers)
    plan_text: str | None = None
    reference: str | None = None
    targets: list[tuple[str, str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", None))
        if ns.postgres:
            admin_url = make_url(ns.postgres).set(drivername="postgresql+psycopg")
            name = f"jessr_bench_{secrets.token_hex(4)}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            targets.append(
                ("postgresql", admin_url.set(database=name).render_as_string(False), (admin, name))
            )
        try:
            for kind, url, _cleanup in targets:
                upgrade_database(Settings.from_env({"JESSR_DATABASE_URL": url}, cwd=Path(tmp)))
                db = Database(make_engine(url))
                try:
                    started = time.perf_counter()
                    load(db, doc)
                    loaded = time.perf_counter() - started
                    figures = measure(db, day, plan_text, params)
                finally:
                    db.close()
                plan_text = figures.pop("plan_text")
                sha = figures.pop("scenario_sha256")
                if reference is not None and sha != reference:
                    raise SystemExit(f"{kind}: the snapshot differs from SQLite's")
                reference = sha
                print(
                    json.dumps(
                        {
                            "database": kind,
                            "requests": ns.requests,
                            "lots": ns.lots,
                            "volunteers": ns.volunteers,
                            "generate_s": round(generated, 1),
                            "load_s": round(loaded, 1),
                            "time_limit": ns.time_limit,
                            **figures,
                        }
                    ),
                    flush=True,
                )
        finally:
            for _kind, _url, cleanup in targets:
                if cleanup is not None:
                    admin, name = cleanup
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
