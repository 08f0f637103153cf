"""Load on the web interface: volunteers and coordinators against ``jessr serve``
on PostgreSQL, over loopback, for a bounded time (``python -m bench.web_load``).

1. Create the database ``jessr_bench_<random>`` on the PostgreSQL server of
   ``JESSR_BENCH_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``),
   ``jessr db upgrade`` it.
2. Load a demo-sized Tunisian day (:mod:`engine.demo_data`: ``--requests``,
   ``--supplies``, ``--volunteers`` volunteers) with ``jessr import … --commit``, run
   and publish its batch (``jessr batch run``/``publish``), then give a password
   account to every volunteer holding a route, and ``--coordinators`` coordinator
   accounts (in-process through ``engine.users.add_user``: 200 ``jessr user add``
   processes would take minutes).
3. ``jessr serve`` (gunicorn, ``--workers``×``--threads``) on a free loopback port.
4. Locust, headless, for ``--duration`` seconds (``bench/locustfile_web.py``): one
   simulated volunteer per routed volunteer account (up to ``--volunteer-users``)
   signs in through the form and opens its route page every few seconds;
   ``--coordinator-users`` coordinators sign in and walk the coordinator pages (every
   GET page of the URL map a coordinator may open without URL arguments).
5. Report p50/p95 of each request kind, the error count, and the route page's
   bytes on the wire (HTML + CSS + JS it loads, no map tiles; identity encoding, as
   ``jessr serve`` sends them, and gzip-compressed as a reverse proxy would), then
   stop the server and drop the database.

Locust is the ``bench`` extra (``pip install -e '.[bench]'``); it may also live in
another environment: ``--locust PATH`` (default: ``python -m locust`` when
importable here, else ``locust`` on PATH).

A volunteer's delivery marks go to ``/volunteer/marks`` as its phone's script
sends them (JSON, a fresh idempotency key, a retry now and then with the same key).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench.report import commit, machine, markers, write_section

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile_web.py"
PASSWORD = "bench-password-1"
SECTION = "web_load"


def _admin_url() -> str:
    url = (
        os.environ.get("JESSR_BENCH_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


def _env(database_url: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(
        {
            "JESSR_DATABASE_URL": database_url,
            "JESSR_HOUSEHOLD_KEY": "bench-household-key",
            "JESSR_SECRET_KEY": "bench-secret-key",
            "JESSR_ACTOR": "bench",
            "JESSR_SECURE_COOKIES": "0",
        }
    )
    env.pop("JESSR_RATELIMIT_STORAGE_URL", None)
    return env


def jessr(env: dict[str, str], workdir: Path, *args: str) -> str:
    """Run ``jessr ARGS``; its output (raises with its stderr when it fails)."""
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"jessr {' '.join(args)} (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return done.stdout


class BenchDatabase:
    """``jessr_bench_<random>`` on the server: created, then dropped."""

    def __init__(self) -> None:
        self.admin_url = _admin_url()
        self.name = f"jessr_bench_{secrets.token_hex(4)}"
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    @property
    def url(self) -> str:
        return make_url(self.admin_url).set(database=self.name).render_as_string(False)

    def create(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def load_day(env: dict[str, str], workdir: Path, ns: argparse.Namespace) -> dict[str, Any]:
    """Import the day, run and publish its batch, add the accounts; what locust needs."""
    from engine.demo_data import write_demo_day

    day = write_demo_day(
        workdir / "day",
        seed=ns.seed,
        day=ns.date,
        requests=ns.requests,
        supplies=ns.supplies,
        volunteers=ns.volunteers,
    )
    for kind, path in day.files.items():
        jessr(env, workdir, "import", kind.value, str(path), "--commit")
    run = json.loads(
        jessr(
            env,
            workdir,
            "batch",
            "run",
            "--date",
            ns.date.isoformat(),
            "--iterations",
            str(ns.iterations),
            "--json",
        )
    )
    batch = int(run["id"])
    jessr(env, workdir, "batch", "publish", str(batch))
    return {"batch": batch, **add_accounts(env["JESSR_DATABASE_URL"], batch, ns.coordinators)}


def add_accounts(database_url: str, batch: int, coordinators: int) -> dict[str, Any]:
    """A volunteer account per routed volunteer, ``coordinators`` coordinator accounts."""
    from sqlalchemy.orm import Session

    from engine.db.session import make_engine
    from engine.models import Allocation, Organization, Volunteer
    from engine.users import add_user, hash_password

    password_hash = hash_password(PASSWORD)  # once: Argon2 is slow on purpose
    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            routed = s.execute(
                select(Volunteer.ref, Organization.code)
                .join(Organization, Organization.id == Volunteer.org_id)
                .where(
                    Volunteer.id.in_(
                        select(Allocation.volunteer_id).where(Allocation.batch_id == batch)
                    )
                )
                .order_by(Organization.code, Volunteer.ref)
            ).all()
            orgs = [
                code for (code,) in s.execute(select(Organization.code).order_by(Organization.code))
            ]
            volunteers, staff = [], []
            for ref, org in routed:
                email = f"{ref.lower()}@{org}.bench.example"
                add_user(
                    s, email, "volunteer", "bench", volunteer=f"{org}/{ref}"
                ).password_hash = password_hash
                volunteers.append(email)
            for i in range(coordinators):
                org = orgs[i % len(orgs)]
                email = f"coordinator{i + 1}@{org}.bench.example"
                add_user(s, email, "coordinator", "bench", org=org).password_hash = password_hash
                staff.append(email)
            s.commit()
    finally:
        engine.dispose()
    return {"volunteers": volunteers, "coordinators": staff}


def coordinator_pages(env: dict[str, str], workdir: Path) -> list[str]:
    """Every GET page a coordinator may open without URL arguments (from the URL map)."""
    from engine.config import Settings
    from web import create_app
    from web.access import PUBLIC, rule_of

    app = create_app(Settings.from_env(env, cwd=workdir), {"TESTING": True})
    app.extensions["jessr.database"].close()
    pages = []
    for rule in app.url_map.iter_rules():
        allowed = rule_of(app, rule.endpoint)
        if (
            "GET" in (rule.methods or ())
            and not rule.arguments
            and not rule.rule.startswith(("/api/", "/static/", "/logout", "/login"))
            and allowed is not None
            and allowed is not PUBLIC
            and "coordinator" in allowed
        ):
            pages.append(rule.rule)
    return sorted(pages)


def start_server(env: dict[str, str], workdir: Path, workers: int, threads: int) -> Any:
    """``jessr serve`` on a free loopback port (the tests' helper, stopped by its id)."""
    from tests.web.live import start_server as start

    jessr_env = {k: v for k, v in env.items() if k.startswith("JESSR_")}
    return start(workdir, jessr_env, workers=workers, threads=threads)


def _locust_command(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    if importlib.util.find_spec("locust") is not None:
        return [sys.executable, "-m", "locust"]
    found = shutil.which("locust")
    if found:
        return [found]
    raise SystemExit("locust is not installed: pip install -e '.[bench]' (or give --locust PATH)")


def run_locust(url: str, config: Path, workdir: Path, ns: argparse.Namespace, users: int) -> Path:
    """Locust headless for ``ns.duration`` seconds; the path prefix of its CSV files."""
    prefix = workdir / "locust"
    command = [
        *_locust_command(ns.locust),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(ns.spawn_rate),
        "--run-time",  # an upper bound: the locustfile stops after the steady phase
        f"{ns.duration + ns.signin_budget}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = dict(os.environ, JESSR_BENCH_CONFIG=str(config))
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=ns.duration + ns.signin_budget + 120,
    )
    (workdir / "locust.log").write_text(done.stdout + done.stderr)
    # Locust exits 1 when any request failed: the failures are counted, not fatal.
    if done.returncode not in (0, 1) or not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust failed (exit {done.returncode}): {done.stderr[-3000:]}")
    return prefix


def read_stats(prefix: Path) -> list[dict[str, Any]]:
    """Locust's per-request rows (name, count, failures, p50, p95, p99, mean)."""
    rows = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if int(row["Request Count"]) == 0:
                continue  # asked only during the sign-in rush
            rows.append(
                {
                    "type": row["Type"],
                    "name": row["Name"],
                    "count": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50": float(row["50%"] or 0),
                    "p95": float(row["95%"] or 0),
                    "p99": float(row["99%"] or 0),
                    "mean": float(row["Average Response Time"] or 0),
                    "rps": float(row["Requests/s"] or 0),
                }
            )
    return rows


def read_failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def route_page_bytes(url: str, email: str, day: date) -> dict[str, int]:
    """The route page of ``email`` and every stylesheet and script it loads: bytes as
    sent (identity) and gzip-compressed (what a proxy with gzip would send)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url + "/login", timeout=30) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"email": email, "password": PASSWORD, "csrf_token": token[1] if token else ""}
    opener.open(url + "/login", data=urllib.parse.urlencode(form).encode(), timeout=30).close()
    sizes = {"html": 0, "css": 0, "js": 0, "gzip": 0, "files": 0}
    with opener.open(f"{url}/volunteer/?date={day.isoformat()}", timeout=30) as response:
        html = response.read()
        assert "/login" not in response.url, "the bench volunteer could not sign in"
    sizes["html"] = len(html)
    sizes["gzip"] += len(gzip.compress(html, 6))
    text_html = html.decode("utf-8", errors="replace")
    assets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', text_html)
    assets += re.findall(r'<link[^>]+href="([^"]+)"[^>]+rel="stylesheet"', text_html)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', text_html)
    for kind, links in (("css", assets), ("js", scripts)):
        for link in sorted(set(links)):
            with opener.open(urllib.parse.urljoin(url + "/volunteer/", link), timeout=30) as r:
                body = r.read()
            sizes[kind] += len(body)
            sizes["gzip"] += len(gzip.compress(body, 6))
            sizes["files"] += 1
    sizes["total"] = sizes["html"] + sizes["css"] + sizes["js"]
    return sizes


def _ms(value: float) -> str:
    return f"{value:.0f} ms"


def render(result: dict[str, Any]) -> str:
    start, end = markers(SECTION)
    ns = result["args"]
    lines = [
        start,
        "## Web interface under load (`python -m bench.web_load`)",
        "",
        f"{result['date']} · {machine()} · commit {commit()} · PostgreSQL "
        f"{result['postgres']} · `jessr serve` {ns['workers']} workers × {ns['threads']} "
        "threads (gunicorn gthread), locust on the same machine over loopback.",
        "",
        f"A demo-sized day ({ns['requests']} requests, {ns['supplies']} lots, "
        f"{ns['volunteers']} volunteers, {result['routed']} of them with a route), "
        f"{result['volunteer_users']} simulated volunteers (one per routed volunteer "
        f"account, each reopening its route page every 10–30 s) and "
        f"{result['coordinator_users']} coordinators (every coordinator page without "
        f"URL arguments in turn, one every 5–15 s). A volunteer marks its deliveries in "
        "order (picked up, then delivered; JSON with a fresh idempotency key) about once "
        "per three page loads, every fifth mark sent twice with its key (a retry: it must "
        "be answered as replayed). Each simulated user signs in through "
        "the form from a loopback address of its own and makes its first visit (the "
        "route page with its CSS and JS), then the load runs steady.",
        "",
        f"**Sign-in rush**: all {result['signin']['users']} users sign in at once (locust "
        f"spawning {ns['spawn_rate']} users/s); the last had its page after "
        f"{result['signin']['seconds']:.0f} s.",
        "",
        "| request | count | failures | p50 | p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {name} | {r['count']} | {r['failures']} | {_ms(r['p50'])} | {_ms(r['p95'])} | "
            f"{_ms(r['p99'])} |"
            for name, r in sorted(result["signin"]["requests"].items())
        ],
        "",
        f"**Steady state**: {ns['duration']} s, from 5 s after the last sign-in.",
        "",
        "| request | count | failures | p50 | p95 | p99 | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["stats"]:
        lines.append(
            f"| {row['name']} | {row['count']} | {row['failures']} | {_ms(row['p50'])} | "
            f"{_ms(row['p95'])} | {_ms(row['p99'])} | {row['rps']:.1f} |"
        )
    size = result["bytes"]
    lines += [
        "",
        f"Errors: {result['errors']} of {result['requests']} requests"
        + (f" ({'; '.join(result['error_kinds'])})" if result["error_kinds"] else "")
        + ".",
        "",
        f"The route page on the wire (no map tiles): HTML {size['html'] / 1024:.1f} KiB + "
        f"CSS {size['css'] / 1024:.1f} KiB + JS {size['js'] / 1024:.1f} KiB "
        f"({size['files']} files) = **{size['total'] / 1024:.1f} KiB** as `jessr serve` "
        f"sends it, {size['gzip'] / 1024:.1f} KiB gzip-compressed (behind a proxy that "
        "compresses); CSS and JS are cached after the first visit.",
    ]
    if not any(row["name"].startswith("POST /volunteer/marks") for row in result["stats"]):
        lines += ["", "No delivery mark was measured: the route pages offered none to make."]
    if ns.get("note"):
        lines += ["", str(ns["note"])]
    lines += [end]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web_load", description=__doc__)
    parser.add_argument("--date", type=date.fromisoformat, default=date.today())
    # The demo's day scaled so that at least 200 volunteers get a route (the solver
    # leaves some volunteers idle: 168 of 200 on the demo's 2,000 requests).
    parser.add_argument("--requests", type=int, default=2500)
    parser.add_argument("--supplies", type=int, default=375)
    parser.add_argument("--volunteers", type=int, default=250)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--coordinators", type=int, default=20, help="coordinator accounts")
    parser.add_argument("--volunteer-users", type=int, default=200)
    parser.add_argument("--coordinator-users", type=int, default=20)
    parser.add_argument(
        "--duration", type=int, default=60, help="seconds of steady load after sign-in (60)"
    )
    parser.add_argument(
        "--signin-budget", type=int, default=420, help="seconds allowed for the sign-in rush"
    )
    parser.add_argument("--spawn-rate", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--locust", help="the locust program (default: found here)")
    parser.add_argument("--note", help="a sentence added to the section (what was measured)")
    parser.add_argument("--out", type=Path, help="write the section into this BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="write the raw result here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    ns = parser.parse_args(argv)
    _locust_command(ns.locust)  # fail early without locust

    database = BenchDatabase()
    workdir = Path(tempfile.mkdtemp(prefix="jessr-web-load-"))
    server = None
    try:
        database.create()
        env = _env(database.url, workdir)
        started = time.monotonic()
        jessr(env, workdir, "db", "upgrade")
        loaded = load_day(env, workdir, ns)
        print(
            f"loaded in {time.monotonic() - started:.0f} s: batch {loaded['batch']}, "
            f"{len(loaded['volunteers'])} routed volunteers",
            flush=True,
        )
        volunteers = loaded["volunteers"][: ns.volunteer_users]
        if len(volunteers) < ns.volunteer_users:
            print(
                f"only {len(volunteers)} volunteers hold a route (wanted {ns.volunteer_users}): "
                "raise --volunteers and --requests",
                file=sys.stderr,
            )
        coordinators = loaded["coordinators"][: ns.coordinator_users]
        config = workdir / "locust.json"
        config.write_text(
            json.dumps(
                {
                    "password": PASSWORD,
                    "date": ns.date.isoformat(),
                    "volunteers": volunteers,
                    "coordinators": coordinators,
                    "coordinator_pages": coordinator_pages(env, workdir),
                    "duration": ns.duration,
                    "signin_report": str(workdir / "signin.json"),
                }
            )
        )
        server = start_server(env, workdir, ns.workers, ns.threads)
        size = route_page_bytes(server.url, volunteers[0], ns.date)
        prefix = run_locust(server.url, config, workdir, ns, len(volunteers) + len(coordinators))
        stats = read_stats(prefix)
        failures = read_failures(prefix)
        signin_path = workdir / "signin.json"
        if not signin_path.exists():
            raise RuntimeError(
                f"the sign-in rush did not end within {ns.signin_budget} s (--signin-budget)"
            )
        signin = json.loads(signin_path.read_text())
        with create_engine(database.url).connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        total = next((r for r in stats if r["name"] == "Aggregated"), None)
        result = {
            "date": date.today().isoformat(),
            "args": {k: (str(v) if isinstance(v, date | Path) else v) for k, v in vars(ns).items()},
            "postgres": str(version).split()[0],
            "routed": len(loaded["volunteers"]),
            "volunteer_users": len(volunteers),
            "coordinator_users": len(coordinators),
            "stats": stats,
            "errors": total["failures"] if total else sum(r["failures"] for r in stats),
            "requests": total["count"] if total else sum(r["count"] for r in stats),
            "error_kinds": [
                f"{f.get('Occurrences')}× {f.get('Name')}: {f.get('Error', '')[:80]}"
                for f in failures
            ],
            "bytes": size,
            "signin": signin,
        }
        section = render(result)
        print(section)
        if ns.json:
            ns.json.write_text(json.dumps(result, indent=2))
        if ns.out:
            write_section(ns.out, section, SECTION)
        return 0
    finally:
        if server is not None:
            server.stop()
        database.drop()
        if ns.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
