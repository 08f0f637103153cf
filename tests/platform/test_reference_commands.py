"""``jessr org add``, ``site add``, ``user add``: records written and archived, bad
input refused in one line (exit 2), an existing record a conflict (exit 3)."""

from __future__ import annotations

import json
from datetime import time

import pytest
from sqlalchemy import func, select

from engine import audit
from engine.models import AuditEvent, Organization, Site, User, Volunteer
from engine.users import verify_password


def _events(database, action):
    with database.session() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        return [json.loads(r.after) | {"_actor": r.actor} for r in rows]


def _ok(result):
    assert result.code == 0, result.err
    return result


def _refused(result, code, *words):
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jessr: "), result.err
    for word in words:
        assert word in lines[0], lines[0]


def test_org_add_writes_and_archives(database):
    _ok(database.cli("org", "add", "crt", "--name", "Croissant-Rouge", "--region", "TN-11"))
    _ok(
        database.cli(
            "org",
            "add",
            "crt-ks",
            "--name",
            "CRT Kasserine",
            "--region",
            "TN-42",
            "--parent",
            "crt",
        )
    )
    with database.session() as s:
        child = s.execute(select(Organization).where(Organization.code == "crt-ks")).scalar_one()
        assert child.region_code == "TN-42" and child.parent_id is not None
    assert _events(database, "organization.add") == [
        {
            "code": "crt",
            "name": "Croissant-Rouge",
            "region": "TN-11",
            "parent": None,
            "_actor": "test",
        },
        {
            "code": "crt-ks",
            "name": "CRT Kasserine",
            "region": "TN-42",
            "parent": "crt",
            "_actor": "test",
        },
    ]
    assert database.cli("audit", "verify").code == 0


def test_org_add_again_is_unchanged_or_a_conflict(database):
    _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    again = _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    assert "unchanged" in again.out
    assert len(_events(database, "organization.add")) == 1
    _refused(database.cli("org", "add", "crt", "--name", "Other", "--region", "TN-11"), 3, "crt")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("org", "add", "crt", "--name", "CRT", "--region", "TN-99"), ("TN-99",)),
        (("org", "add", "c/rt", "--name", "CRT", "--region", "TN-11"), ("code", "c/rt")),
        (("org", "add", "crt", "--name", " ", "--region", "TN-11"), ("name",)),
        (
            ("org", "add", "crt", "--name", "CRT", "--region", "TN-11", "--parent", "nope"),
            ("nope",),
        ),
    ],
)
def test_org_add_refuses_bad_input(database, argv, words):
    _refused(database.cli(*argv), 2, *words)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 0


def test_site_add_with_coordinates(database):
    _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    _ok(
        database.cli(
            "site",
            "add",
            "depot",
            "--org",
            "crt",
            "--name",
            "Dépôt central",
            "--lat",
            "36.8",
            "--lon",
            "10.18",
            "--address",
            "Rue de Rome, Tunis",
        )
    )
    _ok(
        database.cli(
            "site",
            "add",
            "ks",
            "--org",
            "crt",
            "--name",
            "Kasserine",
            "--lat",
            "35.17",
            "--lon",
            "8.83",
            "--region",
            "TN-42",
        )
    )
    with database.session() as s:
        sites = {x.code: x for x in s.execute(select(Site)).scalars()}
        assert sites["depot"].region_code == "TN-11"  # the organization's region by default
        assert sites["depot"].address == "Rue de Rome, Tunis"
        assert sites["ks"].region_code == "TN-42"
    assert [e["code"] for e in _events(database, "site.add")] == ["depot", "ks"]


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        (("--address", "Rue de Rome"), 2, ("address", "no geocoder configured")),
        ((), 2, ("--lat",)),
        (("--lat", "36.8"), 2, ("both",)),
        (("--lat", "96.8", "--lon", "10"), 2, ("lat",)),
        (("--lat", "36.8", "--lon", "10", "--region", "XX"), 2, ("XX",)),
    ],
)
def test_site_add_refuses_bad_input(database, extra, code, words):
    _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    _refused(database.cli("site", "add", "d", "--org", "crt", "--name", "D", *extra), code, *words)
    _refused(
        database.cli(
            "site", "add", "d", "--org", "nope", "--name", "D", "--lat", "1", "--lon", "1"
        ),
        2,
        "nope",
    )


def _volunteer(database, org_code="crt", ref="v1"):
    with database.session() as s:
        org = s.execute(select(Organization).where(Organization.code == org_code)).scalar_one()
        s.add(
            Volunteer(
                org_id=org.id,
                ref=ref,
                name="Sami",
                capacity_kg=300,
                home_lat=36.8,
                home_lon=10.2,
                shift_start=time(8),
                shift_end=time(14),
            )
        )
        s.commit()


def test_user_add_hashes_the_password_with_argon2(database):
    _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    _ok(
        database.cli(
            "user",
            "add",
            "Coord@Example.org",
            "--role",
            "coordinator",
            "--org",
            "crt",
            "--password-stdin",
            stdin="correct horse battery\n",
        )
    )
    _ok(database.cli("user", "add", "admin@example.org", "--role", "admin"))
    with database.session() as s:
        coord = s.execute(select(User).where(User.email == "coord@example.org")).scalar_one()
        assert coord.password_hash.startswith("$argon2id$")
        assert verify_password(coord.password_hash, "correct horse battery")
        assert not verify_password(coord.password_hash, "wrong")
        admin = s.execute(select(User).where(User.email == "admin@example.org")).scalar_one()
        assert admin.password_hash is None and admin.org_id is None
        # The archive records that a password is set, never the hash.
        events = s.execute(select(AuditEvent.after).where(AuditEvent.action == "user.add"))
        text = " ".join(events.scalars())
        assert "argon2" not in text and "correct horse" not in text
    assert _events(database, "user.add")[0]["password"] is True


def test_a_volunteer_account_links_its_volunteer_record(database):
    _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    _volunteer(database)
    _ok(
        database.cli(
            "user", "add", "sami@example.org", "--role", "volunteer", "--volunteer", "crt/v1"
        )
    )
    with database.session() as s:
        user = s.execute(select(User).where(User.email == "sami@example.org")).scalar_one()
        volunteer = s.get(Volunteer, user.volunteer_id)
        assert volunteer.ref == "v1" and user.org_id == volunteer.org_id
    _refused(
        database.cli(
            "user",
            "add",
            "other@example.org",
            "--role",
            "volunteer",
            "--volunteer",
            "v1",
            "--org",
            "crt",
        ),
        3,
        "already has",
    )


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "words"),
    [
        (("not-an-email", "--role", "admin"), "", 2, ("email",)),
        (("a@example.org", "--role", "staff"), "", 2, ("--org",)),
        (("a@example.org", "--role", "volunteer"), "", 2, ("--volunteer",)),
        (("a@example.org", "--role", "volunteer", "--volunteer", "crt/v9"), "", 2, ("crt/v9",)),
        (("a@example.org", "--role", "admin", "--volunteer", "crt/v1"), "", 2, ("volunteer",)),
        (("a@example.org", "--role", "admin", "--password-stdin"), "", 2, ("no password",)),
        (("a@example.org", "--role", "admin", "--password-stdin"), "short\n", 2, ("8",)),
        (("taken@example.org", "--role", "admin"), "", 3, ("already exists",)),
    ],
)
def test_user_add_refuses_bad_input(database, argv, stdin, code, words):
    _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    _volunteer(database)
    _ok(database.cli("user", "add", "taken@example.org", "--role", "admin"))
    with database.session() as s:
        before = audit.head(s)
    _refused(database.cli("user", "add", *argv, stdin=stdin), code, *words)
    with database.session() as s:
        assert audit.head(s) == before  # nothing written
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_a_bad_role_is_a_usage_error(database):
    result = database.cli("user", "add", "a@example.org", "--role", "king")
    assert result.code == 2 and "invalid choice" in result.err


def test_racing_processes_add_one_organization_and_the_others_conflict(database):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, **database.env(), "PYTHONPATH": str(root)}
    argv = [sys.executable, "-m", "engine.cli", "org", "add", "crt", "--region", "TN-11"]
    procs = [
        subprocess.Popen(
            [*argv, "--name", f"Name {k}"],
            cwd=database.workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3, 3, 3], outs
    for (_out, err), p in zip(outs, procs, strict=True):
        if p.returncode == 3:
            assert len(err.strip().splitlines()) == 1, err
            # Lost before the check (the row was there) or after it (the unique index).
            assert "crt already exists" in err or "refused the change" in err, err
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 1
    assert len(_events(database, "organization.add")) == 1
    assert database.cli("audit", "verify").code == 0


def test_an_integrity_error_at_commit_is_a_conflict_and_nothing_is_written(database, monkeypatch):
    # What a lost race looks like: the row appeared between the check and the insert.
    from engine.commands._common import operation
    from engine.errors import ConflictError

    _ok(database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11"))
    with database.session() as s:
        before = audit.head(s)
    with (
        pytest.raises(ConflictError, match="nothing written"),
        operation(database.settings()) as (settings, s),
    ):
        s.add(Organization(code="other", name="O", region_code="TN-11"))
        s.flush()
        audit.record(s, settings.actor, "organization.add", "organization", "x")
        s.add(Organization(code="crt", name="CRT again", region_code="TN-11"))
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 1
        assert audit.head(s) == before
