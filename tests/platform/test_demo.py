"""``make demo`` (engine.demo): its steps on the commands they need, and the whole day.

The whole run needs every platform command (imports, batch, delivery, trace); until
they are all there it is skipped with the list of what is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

import engine
from engine.demo import DELIVERED, DEMO_PASSWORD, Demo, DemoFailed, choose_deliveries
from engine.demo_data import demo_tables
from engine.imports.schemas import Kind
from engine.models.batches import Allocation, Batch
from engine.models.deliveries import Delivery
from engine.models.people import User
from engine.models.reference import Organization, Site

ROOT = Path(engine.__file__).resolve().parent.parent
DAY = date(2026, 11, 28)
NEEDED = ("import", "batch", "delivery", "trace")  # commands the demo runs beyond main's


def _environ(**extra: str) -> dict[str, str]:
    """The commands' environment: this checkout's code, a fixed key and actor."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("JESSR_DATABASE_URL", None)
    env.update(
        {"JESSR_HOUSEHOLD_KEY": "demo-test-key", "JESSR_ACTOR": "test", "JESSR_DEMO_NO_SERVE": "1"},
        **extra,
    )
    return env


def _missing_commands() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--help"],
        env=_environ(),
        capture_output=True,
        text=True,
        check=False,
    )
    # Command names are indented by 4 spaces; their wrapped help lines by more.
    listed = {
        line.split()[0]
        for line in done.stdout.splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    }
    return [name for name in NEEDED if name not in listed]


@contextmanager
def _session(workdir: Path) -> Iterator[Session]:
    """A session on the demo's database (the engine disposed afterwards)."""
    db = create_engine(f"sqlite:///{workdir / 'var' / 'jessr.db'}")
    try:
        with Session(db) as session:
            yield session
    finally:
        db.dispose()


@pytest.mark.slow
def test_first_steps_fresh_database_and_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "production.db"
    workdir = tmp_path / "work"
    (workdir / "var").mkdir(parents=True)
    (workdir / "var" / "jessr.db").write_bytes(b"an old demo database")
    demo = Demo(
        workdir,
        day=DAY,
        requests=60,
        supplies=10,
        volunteers=3,
        environ=_environ(JESSR_DATABASE_URL=f"sqlite:///{elsewhere}"),
    )
    demo.fresh_database()
    files = demo.write_files()
    # Main's reference commands take the generated organizations and sites as they are.
    tables = demo_tables(requests=60, supplies=10, volunteers=3, seed=7, day=DAY)
    for row in tables[Kind.ORGANIZATIONS]:
        demo.jessr("org", "add", row["code"], "--name", row["name"], "--region", row["region"])
    for row in tables[Kind.SITES]:
        demo.jessr(
            "site", "add", row["code"], "--org", row["org"], "--name", row["name"],
            "--lat", row["lat"], "--lon", row["lon"], "--region", row["region"],
        )  # fmt: skip
    demo.add_staff()
    demo.jessr("audit", "verify")

    out = capsys.readouterr().out
    assert "== 1. A fresh database" in out and "$ jessr db upgrade" in out
    assert "JESSR_DATABASE_URL is ignored" in out
    assert not elsewhere.exists()  # the configured database is never touched
    assert all(path.is_file() for path in files.files.values())
    with _session(workdir) as session:
        assert session.scalar(select(func.count()).select_from(Organization)) == len(
            tables[Kind.ORGANIZATIONS]
        )
        assert session.scalar(select(func.count()).select_from(Site)) == len(tables[Kind.SITES])
        roles = {email: role for email, role in session.execute(select(User.email, User.role))}
    assert roles == {
        "admin@jessr.example": "admin",
        "coordination@crt.example": "coordinator",
        "accueil@crt.example": "staff",
    }


def test_a_failing_command_stops_the_demo_with_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = Demo(tmp_path, day=DAY, environ=_environ())
    with pytest.raises(DemoFailed) as failed:
        demo.jessr("audit", "verify")  # no database yet
    assert failed.value.code == 2


PLAN = {
    "allocations": [
        {"id": "A1", "supply": "crt/L0001", "request": "crt/R00001", "quantity": 1},
        {"id": "A2", "supply": "crt/L0001", "request": "unft/R00004", "quantity": 1},
        {"id": "A3", "supply": "crt/L0002", "request": "crt/R00002", "quantity": 2},
        {"id": "A4", "supply": "crt/L0002", "request": "crt/R00003", "quantity": 1},
        {"id": "A5", "supply": "crt/L0002", "request": "crt/R00005", "quantity": 1},
    ],
    "routes": [
        {"volunteer": "crt/V001", "visits": [{"pickups": ["A1"], "deliveries": []},
                                             {"pickups": [], "deliveries": ["A1"]}]},
        {"volunteer": "scouts/V002", "visits": [
            {"pickups": ["A3", "A2", "A4", "A5"], "deliveries": []},
            {"pickups": [], "deliveries": ["A4"]},
            {"pickups": [], "deliveries": ["A2", "A3"]},
            {"pickups": [], "deliveries": ["A5"]},
        ]},
    ],
    "unrouted": [],
}  # fmt: skip


def test_the_busiest_route_is_reported_in_route_order() -> None:
    volunteer, chosen, request_of = choose_deliveries(PLAN)
    assert volunteer == "scouts/V002"
    assert chosen == ["A4", "A2", "A3"][: DELIVERED + 1]
    assert request_of["A4"] == "crt/R00003"


def test_a_plan_without_routes_has_nothing_to_report() -> None:
    with pytest.raises(DemoFailed, match="no route"):
        choose_deliveries({"allocations": [], "routes": [], "unrouted": []})


FAKE_JESSR = """
import json, sys
args = sys.argv[1:]
with open(sys.argv[0] + ".log", "a", encoding="utf-8") as log:
    log.write(json.dumps([args, sys.stdin.read() if "--password-stdin" in args else None]) + "\\n")
if args[:2] == ["batch", "run"]:
    print(json.dumps({"id": 12, "status": "draft", "metrics": {"delivered_value": 9.5}}))
elif args[:2] == ["batch", "show"] and "--plan" in args:
    print(json.dumps(PLAN))
else:
    print("ok: " + " ".join(args))
"""


def test_the_demo_speaks_the_spec_command_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "fake_jessr.py"
    fake.write_text(f"PLAN = {PLAN!r}\n" + FAKE_JESSR, encoding="utf-8")
    workdir = tmp_path / "work"
    demo = Demo(
        workdir,
        day=DAY,
        requests=30,
        supplies=6,
        volunteers=2,
        iterations=40,
        environ=_environ(),
        command=[sys.executable, str(fake)],
    )
    assert demo.run() == 0
    calls = [json.loads(line) for line in Path(f"{fake}.log").read_text().splitlines()]
    lines = [" ".join(args) for args, _ in calls]
    assert lines == [
        "db upgrade",
        "import organizations var/demo/organizations.csv --commit",
        "import sites var/demo/sites.csv --commit",
        "import inventory var/demo/inventory.csv --commit",
        "import requests var/demo/requests.csv --commit",
        "import volunteers var/demo/volunteers.csv --commit",
        "user add admin@jessr.example --role admin --password-stdin",
        "user add coordination@crt.example --role coordinator --org crt --password-stdin",
        "user add accueil@crt.example --role staff --org crt --password-stdin",
        "batch run --date 2026-11-28 --iterations 40 --seed 7 --json",
        "batch publish 12",
        "batch show 12 --plan",
        "user add v002@scouts.example --role volunteer --volunteer scouts/V002 --password-stdin",
        "delivery 12/A4 picked-up --by v002@scouts.example",
        "delivery 12/A2 picked-up --by v002@scouts.example",
        "delivery 12/A3 picked-up --by v002@scouts.example",
        "delivery 12/A4 delivered --by v002@scouts.example",
        "delivery 12/A2 delivered --by v002@scouts.example",
        "delivery 12/A3 failed --reason nobody home --by v002@scouts.example",
        "audit verify",
        "audit head",
        "batch show 12",
        "trace request crt/R00003",
    ]
    assert {stdin for _, stdin in calls if stdin is not None} == {DEMO_PASSWORD}
    out = capsys.readouterr().out
    assert "draft batch 12 (draft): delivered_value 9.5" in out
    assert out.count("\n== ") == 11  # every step has its header
    assert "ok: trace request crt/R00003" in out  # the commands' output is shown
    # The last step lists one account per role, the volunteer with its route's link.
    web = out.split("The web interface")[1]
    for role, email in (
        ("admin", "admin@jessr.example"),
        ("coordinator", "coordination@crt.example"),
        ("staff", "accueil@crt.example"),
        ("volunteer", "v002@scouts.example"),
    ):
        assert re.search(rf"^  {role} +{re.escape(email)} ", web, re.M), web
    assert "/volunteer/?date=2026-11-28" in web
    assert "not serving" in web


def test_the_demo_ends_serving_the_web_interface(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "fake_jessr.py"
    fake.write_text(f"PLAN = {PLAN!r}\n" + FAKE_JESSR, encoding="utf-8")
    demo = Demo(
        tmp_path / "work",
        day=date.today(),
        requests=30,
        supplies=6,
        volunteers=2,
        iterations=40,
        environ=_environ(),
        command=[sys.executable, str(fake)],
        serve=True,
        port=5123,
    )
    assert demo.run() == 0
    calls = [json.loads(line)[0] for line in Path(f"{fake}.log").read_text().splitlines()]
    assert " ".join(calls[-1]) == "serve --host 127.0.0.1 --port 5123"
    out = capsys.readouterr().out
    assert "http://127.0.0.1:5123/login" in out
    assert "http://127.0.0.1:5123/volunteer/" in out and "?date=" not in out  # today's route


@pytest.mark.slow
def test_the_whole_demo_on_a_small_day(tmp_path: Path) -> None:
    missing = _missing_commands()
    if missing:
        pytest.skip(f"jessr lacks the commands the demo runs: {', '.join(missing)}")
    args = ["--workdir", str(tmp_path), "--date", DAY.isoformat(), "--iterations", "50"]
    args.append("--no-serve")
    size = ["--requests", "200", "--supplies", "40", "--volunteers", "12"]
    done = subprocess.run(
        [sys.executable, "-m", "engine.demo", *args, *size],
        env=_environ(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for command in ("import requests", "batch run", "batch publish", "delivery", "audit verify"):
        assert f"$ jessr {command}" in out
    assert "$ jessr trace request " in out

    with _session(tmp_path) as session:
        published = session.scalars(select(Batch).where(Batch.status == "published")).all()
        assert len(published) == 1
        kinds = sorted(session.scalars(select(Delivery.kind)).all())
        statuses = session.scalars(
            select(Allocation.status).where(Allocation.batch_id == published[0].id)
        ).all()
    assert kinds.count("picked_up") == 3
    assert kinds.count("delivered") == DELIVERED and kinds.count("failed") == 1
    assert statuses.count("delivered") == DELIVERED and statuses.count("failed") == 1
    _accounts_sign_in(tmp_path, published[0].id)

    verify = subprocess.run(
        [sys.executable, "-m", "engine.cli", "audit", "verify"],
        cwd=tmp_path,
        env=_environ(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr


def _accounts_sign_in(workdir: Path, batch: int) -> None:
    """One account per role, each signing in to the web interface with the demo password;
    the volunteer's holds a route on the published day and sees it."""
    from engine.config import Settings
    from web import create_app

    with _session(workdir) as session:
        users = {u.role: u for u in session.scalars(select(User))}
        assert set(users) == {"admin", "coordinator", "staff", "volunteer"}
        volunteer_id = users["volunteer"].volunteer_id
        assert volunteer_id is not None
        routed = session.scalar(
            select(func.count())
            .select_from(Allocation)
            .where(Allocation.batch_id == batch, Allocation.volunteer_id == volunteer_id)
        )
        assert routed
    env = {**_environ(), "JESSR_SECRET_KEY": "demo-test-secret", "JESSR_SECURE_COOKIES": "0"}
    settings = Settings.from_env(env, cwd=workdir)
    app = create_app(
        settings, {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    )
    try:
        homes = {
            "admin": "/admin/",
            "coordinator": "/coordinator/",
            "staff": "/coordinator/",
            "volunteer": "/volunteer/",
        }
        for role, user in users.items():
            client = app.test_client()
            response = client.post("/login", data={"email": user.email, "password": DEMO_PASSWORD})
            assert response.status_code == 302, (role, response.status_code)
            assert response.headers["Location"] == homes[role]
            page = client.get(homes[role] + (f"?date={DAY}" if role == "volunteer" else ""))
            assert page.status_code == 200, (role, page.status_code)
    finally:
        app.extensions["jessr.database"].close()
