"""The archive pages: search (filters, newest first, pages), verify (head hash, a
tampered event found), and the traces of a lot and a request."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy import text as sql

from engine import audit
from engine.models import AuditEvent
from tests.web.admin_pages import table, text
from tests.web.world import World


def _db(app: Flask) -> Any:
    return app.extensions["jessr.database"].factory()


def _seqs(page: str) -> list[int]:
    return [int(row[0]) for row in table(page, "archive-events")]


def test_search_newest_first_and_filters(app: Flask, signed_in: Any, world: World) -> None:
    client = signed_in("admin")
    with _db(app) as s:
        total = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    page = text(client.get("/admin/archive"))
    seqs = _seqs(page)
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == total
    assert f"{total} events, newest first." in page
    # A record by ORG/REF finds events recorded under its row id too.
    assert (
        client.post(
            "/admin/organizations/utss/edit",
            data={"name": "UTSS Sfax branch", "region": "TN-61", "parent": ""},
        ).status_code
        == 302
    )
    found = table(text(client.get("/admin/archive?entity_type=organization&entity=utss")),
                  "archive-events")  # fmt: skip
    assert found[0][3] == "organization.update"
    assert all(r[4].startswith("organization") for r in found)
    # By actor and by action prefix.
    mine = table(text(client.get(f"/admin/archive?actor={world.email('admin')}")), "archive-events")
    assert mine and all(r[2] == world.email("admin") for r in mine)
    logins = table(text(client.get("/admin/archive?action=user")), "archive-events")
    assert logins and all(r[3].startswith("user.") for r in logins)
    # A date range before everything finds nothing; a bad date is a field error.
    assert table(text(client.get("/admin/archive?until=2000-01-01")), "archive-events") == [
        ["No event matches."]
    ]
    bad = text(client.get("/admin/archive?since=yesterday"))
    assert "Enter a date as YYYY-MM-DD." in bad


def test_search_pages(app: Flask, signed_in: Any) -> None:
    client = signed_in("admin")
    with _db(app) as s:
        from engine.access import system_actor

        viewer = system_actor("test")
        first = audit.search_events(s, viewer, per_page=3)
        second = audit.search_events(s, viewer, per_page=3, page=2)
        assert [e.seq for e in first.events] == [first.total - i for i in range(3)]
        assert [e.seq for e in second.events] == [first.total - 3 - i for i in range(3)]
    page = text(client.get("/admin/archive?page=1"))
    if first.total > 50:
        assert 'rel="next"' in page
    assert client.get("/admin/archive?page=zzz").status_code == 200


def test_verify_shows_the_head_and_finds_a_tampered_event(
    app: Flask, signed_in: Any, web_db: Any
) -> None:
    client = signed_in("admin")
    with _db(app) as s:
        head = audit.head(s)
    archive = text(client.get("/admin/archive"))
    assert head.hash in archive and 'id="archive-verify"' in archive
    ok = client.post("/admin/archive/verify")
    assert ok.status_code == 200
    page = text(ok)
    assert "OK" in page and head.hash in page and "the chain is intact" in page
    kept = text(client.post("/admin/archive/verify", data={"head": head.hash}))
    assert "The head hash you kept is in the chain." in kept
    # Someone edits an event behind the application's back.
    with web_db.engine.begin() as connection:
        connection.execute(sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
    broken = text(client.post("/admin/archive/verify"))
    assert "Broken" in broken and "first bad event: 2" in broken
    assert "event 2: content does not match its hash (edited)" in broken
    assert "mallory" in broken


def test_verify_with_an_unknown_kept_head(signed_in: Any) -> None:
    page = text(signed_in("admin").post("/admin/archive/verify", data={"head": "ab" * 32}))
    assert "Broken" in page and "is not in the chain" in page


def test_lot_and_request_traces(app: Flask, signed_in: Any, world: World) -> None:
    client = signed_in("admin")
    lot = client.get(f"/admin/trace/lot/{world.ids['own']['lot_id']}")
    assert lot.status_code == 200
    page = text(lot)
    assert "crt/L1" in page and 'id="trace-current"' in page
    allocations = table(page, "trace-allocations")
    assert allocations and all(r[2] == "crt/L1" for r in allocations)
    assert 'id="trace-timeline"' in page and "batch.publish" in page
    request = text(client.get(f"/admin/trace/request/{world.ids['own']['request_id']}"))
    assert "crt/R1" in request
    assert "Family crt" not in request  # no personal data
    # The other organization's records too (admins are national).
    assert client.get(f"/admin/trace/lot/{world.ids['other']['lot_id']}").status_code == 200
    assert client.get("/admin/trace/lot/999999").status_code == 404
    assert client.get("/admin/trace/request/999999").status_code == 404


def test_trace_lookup_by_org_ref(signed_in: Any, world: World) -> None:
    client = signed_in("admin")
    found = client.get("/admin/trace?kind=lot&ref=utss/L1")
    assert found.status_code == 302
    assert found.location.endswith(f"/admin/trace/lot/{world.ids['other']['lot_id']}")
    request = client.get("/admin/trace?kind=request&ref=crt/R1")
    assert request.location.endswith(f"/admin/trace/request/{world.ids['own']['request_id']}")
    ambiguous = client.get("/admin/trace?kind=lot&ref=L1")  # both organizations have an L1
    assert ambiguous.status_code == 404 and "give ORG/REF" in text(ambiguous)
    assert client.get("/admin/trace?kind=lot&ref=crt/nope").status_code == 404
    assert client.get("/admin/trace").status_code == 200


def test_archive_is_for_admins_only(signed_in: Any, world: World) -> None:
    for role in ("coordinator", "staff", "volunteer"):
        client = signed_in(role)
        assert client.get("/admin/archive").status_code == 403
        assert client.post("/admin/archive/verify").status_code == 403
        assert client.get(f"/admin/trace/lot/{world.ids['own']['lot_id']}").status_code == 403
