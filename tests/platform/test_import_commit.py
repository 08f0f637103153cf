"""``jessr import … --commit``: previews write nothing, commits are whole, re-imports
change nothing, updates are archived, stored columns hold what the file said."""

from __future__ import annotations

import json
from datetime import date, time

import pytest
from sqlalchemy import select

from engine import audit
from engine.imports.store import END_OF_DAY
from engine.models import AuditEvent, Organization, Request, Site, SupplyLot, Volunteer
from tests.platform.factories import make_org, make_site
from tests.platform.importfiles import report, row_counts, write


def _setup(database) -> None:
    with database.session() as s:
        make_site(s, make_org(s, "crt"), "W1")
        s.commit()


def _events(database) -> list[AuditEvent]:
    with database.session() as s:
        return list(s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def test_preview_writes_nothing(database, tmp_path):
    _setup(database)
    path = write(
        tmp_path / "r.csv",
        "requests",
        [{"ref": f"R{i}", "household": f"h-{i:04d}"} for i in range(5)],
    )
    with database.session() as s:
        before = row_counts(s)
    result = database.cli("import", "requests", str(path))
    assert result.code == 0, result
    assert result.out.strip() == (
        f"{path}: preview of requests: 5 new, 0 updated, 0 unchanged "
        "(nothing written; --commit applies)"
    )
    with database.session() as s:
        assert row_counts(s) == before  # not even the household key's fingerprint
    assert report(database.cli("import", "requests", str(path), "--json")) == {
        "ok": True,
        "counts": {"new": 5, "updated": 0, "unchanged": 0},
        "errors": [],
    }


def test_commit_then_reimport_changes_nothing(database, tmp_path):
    _setup(database)
    files = {
        "organizations": write(
            tmp_path / "o.csv", "organizations", [{"code": "ados", "parent": "crt"}]
        ),
        "sites": write(tmp_path / "s.csv", "sites", [{"code": "W2"}]),
        "inventory": write(tmp_path / "i.csv", "inventory", [{"ref": "L1"}, {"ref": "L2"}]),
        "requests": write(tmp_path / "r.csv", "requests", [{"ref": "R1", "filed": ""}]),
        "volunteers": write(tmp_path / "v.csv", "volunteers", [{"ref": "V1"}]),
    }
    for kind, path in files.items():
        result = database.cli("import", kind, str(path), "--commit")
        assert result.code == 0, result
        assert "imported" in result.out and " 0 updated, 0 unchanged" in result.out
    with database.session() as s:
        before = row_counts(s)
        head = audit.head(s)
    for kind, path in files.items():
        counts = report(database.cli("import", kind, str(path), "--commit", "--json"))["counts"]
        assert counts["new"] == counts["updated"] == 0 and counts["unchanged"] >= 1
    with database.session() as s:
        assert row_counts(s) == before
        assert audit.head(s) == head  # a no-op import archives nothing
    imports = [json.loads(e.after) for e in _events(database) if e.action == "import.commit"]
    assert [i["kind"] for i in imports] == list(files)
    assert imports[2]["counts"] == {"new": 2, "updated": 0, "unchanged": 0}
    import hashlib

    assert imports[2]["sha256"] == hashlib.sha256(files["inventory"].read_bytes()).hexdigest()
    assert all(e.actor == "test" for e in _events(database)[1:])
    assert database.cli("audit", "verify").code == 0


def test_an_update_is_archived_with_its_personal_part_apart(database, tmp_path):
    _setup(database)
    row = {"ref": "R1", "household": "77777", "name": "Famille A", "phone": "+216 1"}
    database.cli(
        "import", "requests", str(write(tmp_path / "a.csv", "requests", [row])), "--commit"
    )
    changed = {**row, "quantity": "3", "name": "Famille B"}
    result = database.cli(
        "import",
        "requests",
        str(write(tmp_path / "b.csv", "requests", [changed])),
        "--commit",
        "--json",
    )
    assert report(result)["counts"] == {"new": 0, "updated": 1, "unchanged": 0}
    with database.session() as s:
        request = s.execute(select(Request)).scalar_one()
        assert (request.quantity, request.name) == (3, "Famille B")
        [add] = audit.events_of(s, "request", request.id)[:1]
        update = audit.events_of(s, "request", request.id)[-1]
        assert update.action == "request.update"
        assert json.loads(update.before) == {"org": "crt", "ref": "R1", "quantity": 1}
        assert json.loads(update.after) == {"org": "crt", "ref": "R1", "quantity": 3}
        assert "Famille" not in update.before + update.after + add.after
        assert audit.personal_data(update) == {
            "before": {"name": "Famille A"},
            "after": {"name": "Famille B"},
        }
        assert audit.personal_data(add)["phone"] == "+216 1"
        # The purge erases the personal part; the chain still verifies.
        audit.erase_personal(s, [add.seq, update.seq])
        s.commit()
    assert database.cli("audit", "verify").code == 0


def test_one_bad_row_among_many_writes_nothing(database, tmp_path):
    _setup(database)
    rows = [{"ref": f"L{i}"} for i in range(200)]
    rows[150] = {"ref": "L150", "org": "ghost"}
    rows[20] = {"ref": "L20", "quantity": "-1"}
    with database.session() as s:
        before = row_counts(s)
    path = write(tmp_path / "i.csv", "inventory", rows)
    result = database.cli("import", "inventory", str(path), "--commit")
    assert result.code == 2 and result.out == ""
    lines = result.err.splitlines()
    assert lines[0] == f"{path}: rejected, 2 errors (nothing written)"
    assert lines[1].startswith('row 22, column quantity, value "-1"')
    assert lines[2].startswith('row 152, column org, value "ghost": unknown organization')
    body = report(database.cli("import", "inventory", str(path), "--commit", "--json"))
    assert body["ok"] is False
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(22, "quantity"), (152, "org")]
    assert set(body["errors"][0]) == {"row", "column", "value", "reason"}
    with database.session() as s:
        assert row_counts(s) == before


def test_stored_columns(database, tmp_path):
    _setup(database)
    path = write(
        tmp_path / "r.csv",
        "requests",
        [
            {"ref": "R1", "window_start": "09:30", "window_end": "24:00", "filed": "2026-11-20"},
            {"ref": "R2", "household": "other", "window_start": "", "window_end": "", "filed": ""},
        ],
    )
    assert database.cli("import", "requests", str(path), "--commit").code == 0
    vols = write(
        tmp_path / "v.csv",
        "volunteers",
        [
            {
                "ref": "V1",
                "days": "sat;mon;2026-12-01",
                "shift_start": "14:00",
                "shift_end": "24:00",
            },
            {"ref": "V2", "days": "", "speed_kmh": ""},
        ],
    )
    assert database.cli("import", "volunteers", str(vols), "--commit").code == 0
    lots = write(tmp_path / "i.csv", "inventory", [{"ref": "L1", "regions": "tn-42;TN-11"}])
    assert database.cli("import", "inventory", str(lots), "--commit").code == 0
    with database.session() as s:
        r1, r2 = s.execute(select(Request).order_by(Request.ref)).scalars()
        assert (r1.window_start, r1.window_end, r1.filed) == (
            time(9, 30),
            END_OF_DAY,
            date(2026, 11, 20),
        )
        assert (r2.window_start, r2.window_end, r2.filed) == (None, None, date.today())
        assert r1.status == "open" and r1.phone == "+216 71 000 000"
        v1, v2 = s.execute(select(Volunteer).order_by(Volunteer.ref)).scalars()
        assert v1.days == ["mon", "sat", "2026-12-01"]
        assert (v1.shift_start, v1.shift_end) == (time(14), END_OF_DAY)
        assert v2.days is None and v2.speed_kmh is None and v2.vehicle == "van"
        lot = s.execute(select(SupplyLot)).scalar_one()
        assert lot.regions == ["TN-11", "TN-42"] and lot.quantity_received == 40
        assert (lot.expires, lot.received_on) == (date(2026, 12, 5), date(2026, 11, 20))
        assert lot.donor == "Boulangerie Ben Ali" and lot.quantity_reserved == 0
    # Re-imported, a row without a filed date keeps the stored one: no change.
    assert report(database.cli("import", "requests", str(path), "--commit", "--json"))[
        "counts"
    ] == {"new": 0, "updated": 0, "unchanged": 2}


def test_organizations_and_sites_update(database, tmp_path):
    _setup(database)
    orgs = write(
        tmp_path / "o.csv",
        "organizations",
        [{"code": "crt", "name": "CRT national"}, {"code": "k", "parent": "crt"}],
    )
    assert report(database.cli("import", "organizations", str(orgs), "--commit", "--json"))[
        "counts"
    ] == {"new": 1, "updated": 1, "unchanged": 0}
    sites = write(tmp_path / "s.csv", "sites", [{"code": "W1", "lat": "36.9"}])
    assert report(database.cli("import", "sites", str(sites), "--commit", "--json"))["counts"] == {
        "new": 0,
        "updated": 1,
        "unchanged": 0,
    }
    with database.session() as s:
        crt = s.execute(select(Organization).where(Organization.code == "crt")).scalar_one()
        assert crt.name == "CRT national"
        assert s.execute(select(Site)).scalar_one().lat == 36.9
        [update] = [e for e in audit.events_of(s, "site", 1) if e.action == "site.update"]
        assert json.loads(update.before)["lat"] == 36.8065
    assert database.cli("audit", "verify").code == 0


def test_unreadable_file_and_bad_org_option(database, tmp_path):
    result = database.cli("import", "inventory", str(tmp_path / "missing.csv"))
    assert result.code == 2 and result.err.count("\n") == 1 and "missing.csv" in result.err
    path = write(tmp_path / "i.csv", "inventory", [{}], drop=("org",))
    result = database.cli("import", "inventory", str(path), "--org", "x" * 300)
    assert result.code == 2 and result.err.startswith("jessr: --org")


def test_the_head_moves_over_an_import_only_onto_stored_events(database, tmp_path):
    _setup(database)
    path = write(tmp_path / "i.csv", "inventory", [{"ref": f"L{i}"} for i in range(50)])
    assert database.cli("import", "inventory", str(path), "--commit").code == 0
    with database.session() as s:
        events = _events(database)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert [e.action for e in events[-51:]] == ["lot.add"] * 50 + ["import.commit"]
        assert audit.head(s).hash == events[-1].hash
    assert database.cli("audit", "verify").code == 0
    if database.kind != "postgresql":
        return
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    # The guard: a jump past missing events, or onto a wrong hash, is refused.
    insert = (
        "INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, "
        "prev_hash, hash) SELECT seq + :n, at, actor, action, entity_type, entity_id, "
        "prev_hash, :h FROM audit_events WHERE seq = (SELECT seq FROM audit_head)"
    )
    for stored, move in ((1, "seq = seq + 2, hash = 'b'"), (2, "seq = seq + 2, hash = 'x'")):
        with pytest.raises(DBAPIError, match="refused"), database.engine.begin() as conn:
            for n in range(1, stored + 1):
                conn.execute(text(insert), {"n": n, "h": "ab"[n - 1] * 64})
            conn.execute(text(f"UPDATE audit_head SET {move}"))
    assert database.cli("audit", "verify").code == 0


def test_an_unmigrated_database_is_refused(empty_database, tmp_path):
    path = write(tmp_path / "o.csv", "organizations", [{}])
    result = empty_database.cli("import", "organizations", str(path), "--commit")
    assert result.code == 2 and "jessr db upgrade" in result.err and result.err.count("\n") == 1


def test_an_xlsx_file_commits_like_a_csv(database, tmp_path):
    from tests.imports.conftest import VALID, write_rows

    _setup(database)
    header = list(VALID["volunteers"])
    path = write_rows(tmp_path / "v.xlsx", header, [[VALID["volunteers"][c] for c in header]])
    body = report(database.cli("import", "volunteers", str(path), "--commit", "--json"))
    assert body == {"ok": True, "counts": {"new": 1, "updated": 0, "unchanged": 0}, "errors": []}
    with database.session() as s:
        assert s.execute(select(Volunteer.ref)).scalar_one() == "V001"
