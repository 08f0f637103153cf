"""Benchmark: ``jessr import`` time per file kind, on SQLite and PostgreSQL.

    python -m bench.imports [--inventory 100000] [--requests 50000] [--volunteers 2000]
                            [--url postgresql://…] [--seed 0]

Writes realistic CSV files of a Tunisian day (places, categories and quantities from
``engine.generate``; organizations, depots, household IDs and names made up here),
then imports them into a fresh database in order — organizations, sites, inventory,
requests, volunteers — each with ``--commit`` through the same service as the
command (``engine.imports.store.run_import``), then imports the inventory again (a
re-import: every row unchanged). Prints a markdown table: rows and seconds per
file, split into the pure part (read, validate) and the whole import.

``--url``: a PostgreSQL server; a temporary database ``jessr_bench_<hex>`` is
created on it and dropped at the end. Default: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import csv
import platform
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.config import Settings
from engine.db.migrate import upgrade_database
from engine.db.session import Database, make_engine
from engine.generate import generate_scenario
from engine.imports.prepare import prepare
from engine.imports.store import run_import

DAY = date(2026, 11, 28)
ORGS = [  # code, name, region
    ("crt", "Croissant-Rouge tunisien", "TN-11"),
    ("unft", "Union nationale de la femme tunisienne", "TN-11"),
    ("ados", "Association de développement solidaire", "TN-42"),
    ("sfx", "Solidarité Sfax", "TN-61"),
    ("kef", "Secours Le Kef", "TN-33"),
]
KEY = b"bench-household-key-0123456789ab"


def write_csv(path: Path, header: list[str], rows: Iterator[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_files(
    folder: Path, lots: int, requests: int, volunteers: int, seed: int
) -> dict[str, Path]:
    """The five files of a day, in import order."""
    day = generate_scenario(requests=requests, supplies=lots, volunteers=volunteers, seed=seed)
    codes = [o[0] for o in ORGS]
    files = {
        "organizations": write_csv(
            folder / "organizations.csv",
            ["code", "name", "region", "parent"],
            iter([[c, n, r, "" if c == "crt" else "crt"] for c, n, r in ORGS]),
        )
    }
    files["sites"] = write_csv(
        folder / "sites.csv",
        ["org", "code", "name", "region", "lat", "lon"],
        iter(
            [c, f"W{i}", f"Entrepôt {i}", r, f"{36.8 - 0.1 * i:.4f}", f"{10.18 - 0.05 * i:.4f}"]
            for c, _, r in ORGS
            for i in range(1, 4)
        ),
    )

    def lot_rows() -> Iterator[list[object]]:
        for i, s in enumerate(day["supplies"]):
            org = codes[i % len(codes)]
            at_site = i % 3 == 0  # a third of the lots sit at a depot of their org
            expires = s.get("expires", "")
            yield [
                org,
                f"L{i + 1:06d}",
                s["category"],
                s["quantity"],
                f"W{1 + i % 3}" if at_site else "",
                "" if at_site else s["lat"],
                "" if at_site else s["lon"],
                "" if at_site else s["region"],
                expires,
                ";".join(s.get("regions", [])),
                "Donateur" if i % 4 == 0 else "",
                (DAY - timedelta(days=i % 30)).isoformat(),
            ]

    files["inventory"] = write_csv(
        folder / "inventory.csv",
        ["org", "ref", "category", "quantity", "site", "lat", "lon", "region", "expires",
         "regions", "donor", "received"],
        lot_rows(),
    )  # fmt: skip

    def request_rows() -> Iterator[list[object]]:
        for i, r in enumerate(day["requests"]):
            yield [
                codes[i % len(codes)],
                f"R{i + 1:06d}",
                f"{10_000_000 + i * 7919 % 89_999_999:08d}",  # distinct 8-digit IDs
                r["category"],
                r["quantity"],
                r["priority"],
                r["region"],
                r["lat"],
                r["lon"],
                r.get("filed", DAY.isoformat()),
                "09:00" if i % 2 else "",
                "17:00" if i % 2 else "",
                f"+216 2{i % 10} {i % 1000:03d} {i % 997:03d}",
                f"Famille {i}",
            ]

    files["requests"] = write_csv(
        folder / "requests.csv",
        ["org", "ref", "household", "category", "quantity", "priority", "region", "lat", "lon",
         "filed", "window_start", "window_end", "phone", "name"],
        request_rows(),
    )  # fmt: skip

    def volunteer_rows() -> Iterator[list[object]]:
        for i, v in enumerate(day["volunteers"]):
            yield [
                codes[i % len(codes)],
                f"V{i + 1:05d}",
                f"Bénévole {i}",
                v["lat"],
                v["lon"],
                v["capacity_kg"],
                v["shift"][0],
                v["shift"][1],
                v.get("speed_kmh", ""),
                v.get("vehicle", ""),
                "mon;wed;sat" if i % 2 else "",
            ]

    files["volunteers"] = write_csv(
        folder / "volunteers.csv",
        ["org", "ref", "name", "lat", "lon", "capacity_kg", "shift_start", "shift_end",
         "speed_kmh", "vehicle", "days"],
        volunteer_rows(),
    )  # fmt: skip
    return files


@contextmanager
def database(url: str | None, folder: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file in ``folder`` or a temporary one on
    the PostgreSQL server of ``url``."""
    if url is None:
        target = f"sqlite:///{folder / 'bench.db'}"
        upgrade_database(Settings.from_env({"JESSR_DATABASE_URL": target}, cwd=folder))
        yield target
        return
    admin_url = make_url(url).set(drivername="postgresql+psycopg")
    name = f"jessr_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_database(Settings.from_env({"JESSR_DATABASE_URL": target}, cwd=folder))
        yield target
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inventory", type=int, default=100_000, help="lots (default 100000)")
    parser.add_argument("--requests", type=int, default=50_000, help="requests (default 50000)")
    parser.add_argument("--volunteers", type=int, default=2_000, help="volunteers (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", help="a PostgreSQL server (default: a temporary SQLite file)")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_files(folder, ns.inventory, ns.requests, ns.volunteers, ns.seed)
        with database(ns.url, folder) as url:
            db = Database(make_engine(url))
            backend = db.engine.dialect.name
            print(f"imports on {backend}, {platform.processor() or platform.machine()}, "
                  f"{date.today().isoformat()}\n")  # fmt: skip
            print("| file | rows | read+validate (s) | import (s) | new | updated | unchanged |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            runs = [*files.items(), ("inventory (re-import)", files["inventory"])]
            for label, path in runs:
                kind = label.split()[0]
                start = time.perf_counter()
                prepared = prepare(kind, path, today=DAY)
                pure = time.perf_counter() - start
                start = time.perf_counter()
                with db.session() as session:
                    report = run_import(
                        session, kind, path, actor="bench", household_key=KEY, commit=True,
                        today=DAY,
                    )  # fmt: skip
                whole = time.perf_counter() - start
                if not report.ok:
                    raise SystemExit(f"{label}: {report.lines()[:5]}")
                c = report.counts
                print(f"| {label} | {len(prepared.table.rows):,} | {pure:.1f} | {whole:.1f} "
                      f"| {c.new:,} | {c.updated:,} | {c.unchanged:,} |")  # fmt: skip
            db.close()


if __name__ == "__main__":
    main()
