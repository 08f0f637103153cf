"""``jessr retention purge``: personal data past the retention period erased — requests
closed long ago, inactive volunteers, their archive events' personal part — while the
history stays whole and ``audit verify`` still exits 0 (on PostgreSQL, through the
trigger that allows only clearing ``personal``); ``--dry-run`` only counts."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from engine import audit
from engine.db.base import utcnow
from engine.models import AuditEvent, Request, Volunteer
from tests.platform.batch_factories import intake_events
from tests.platform.factories import make_org, make_request, make_volunteer

PERSONAL = {"name": "Amira B.", "phone": "+21620000000", "address": "12 rue de Carthage"}


def _setup(database) -> dict[str, int]:
    now = utcnow()
    old, recent = now - timedelta(days=200), now - timedelta(days=10)
    with database.session() as s:
        crt = make_org(s, "crt")
        ids = {}
        for ref, status, closed in (
            ("OLD_DELIVERED", "delivered", old),
            ("OLD_CANCELLED", "cancelled", old),
            ("RECENT", "delivered", recent),  # closed 10 days ago: kept
            ("OPEN", "open", None),  # never closed: kept
        ):
            request = make_request(s, crt, ref, status=status, closed_at=closed, **PERSONAL)
            ids[ref] = request.id
        s.flush()
        intake_events(s, [s.get(Request, i) for i in ids.values()])
        gone = make_volunteer(s, crt, "GONE", phone="+21699999999", active=False, updated_at=old)
        busy = make_volunteer(s, crt, "BUSY", phone="+21698888888")
        fresh = make_volunteer(s, crt, "FRESH", active=False, updated_at=recent)
        for v in (gone, busy, fresh):
            personal = {"name": v.name, "phone": v.phone}
            audit.record(
                s,
                "staff",
                "volunteer.add",
                "volunteer",
                v.id,
                after={"ref": v.ref},
                personal=personal,
            )
        ids.update(GONE=gone.id, BUSY=busy.id, FRESH=fresh.id)
        s.commit()
    return ids


def _personal(database, ids):
    with database.session() as s:
        requests = {
            ref: (r.name, r.phone, r.address, r.personal_erased_at is not None)
            for ref in ("OLD_DELIVERED", "OLD_CANCELLED", "RECENT", "OPEN")
            for r in [s.get(Request, ids[ref])]
        }
        volunteers = {
            ref: (v.name, v.phone, v.personal_erased_at is not None)
            for ref in ("GONE", "BUSY", "FRESH")
            for v in [s.get(Volunteer, ids[ref])]
        }
        held = s.execute(
            select(AuditEvent.entity_type, AuditEvent.entity_id).where(
                AuditEvent.personal.is_not(None)
            )
        ).all()
        return requests, volunteers, sorted(held)


def test_dry_run_counts_and_writes_nothing(database):
    ids = _setup(database)
    before = _personal(database, ids)
    with database.session() as s:
        head = audit.head(s)
    result = database.cli("retention", "purge", "--dry-run", "--json")
    assert result.code == 0, result.err
    counts = json.loads(result.out)
    assert (counts["requests"], counts["volunteers"], counts["audit_events"]) == (2, 1, 3)
    assert counts["dry_run"] is True and counts["retention_days"] == 180
    assert _personal(database, ids) == before
    with database.session() as s:
        assert audit.head(s) == head  # not even an event


def test_purge_erases_past_retention_and_the_chain_still_verifies(database):
    ids = _setup(database)
    result = database.cli("retention", "purge")
    assert result.code == 0, result.err
    assert "2 request(s), 1 volunteer(s) and 3 archive event(s)" in result.out
    requests, volunteers, held = _personal(database, ids)
    assert requests["OLD_DELIVERED"] == (None, None, None, True)
    assert requests["OLD_CANCELLED"] == (None, None, None, True)
    assert requests["RECENT"] == (*PERSONAL.values(), False)
    assert requests["OPEN"] == (*PERSONAL.values(), False)
    assert volunteers["GONE"] == (None, None, True)
    assert volunteers["BUSY"][2] is False and volunteers["FRESH"][2] is False
    assert held == sorted(
        [
            ("request", str(ids["RECENT"])),
            ("request", str(ids["OPEN"])),
            ("volunteer", str(ids["BUSY"])),
            ("volunteer", str(ids["FRESH"])),
        ]
    )
    with database.session() as s:
        # The history stays: every event, with its before/after; statuses untouched.
        erased = audit.events_of(s, "request", ids["OLD_DELIVERED"])
        assert [e.action for e in erased] == ["request.add"]
        assert erased[0].personal is None and erased[0].personal_digest is not None
        assert json.loads(erased[0].after)["ref"] == "OLD_DELIVERED"
        assert s.get(Request, ids["OLD_DELIVERED"]).status == "delivered"
        purge = s.execute(
            select(AuditEvent).where(AuditEvent.action == "retention.purge")
        ).scalar_one()
        after = json.loads(purge.after)
        assert (after["requests"], after["volunteers"], after["audit_events"]) == (2, 1, 3)
        assert purge.personal is None
        assert "Amira" not in purge.after
    verify = database.cli("audit", "verify")
    assert verify.code == 0, verify.err
    # A second purge finds nothing more, and is archived too.
    again = database.cli("retention", "purge", "--json")
    assert json.loads(again.out)["requests"] == 0
    assert database.cli("audit", "verify").code == 0


def test_retention_days_is_configurable(database, monkeypatch):
    ids = _setup(database)
    monkeypatch.setenv("JESSR_RETENTION_DAYS", "7")
    result = database.cli("retention", "purge", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["requests"] == 3  # RECENT (10 days) too now
    requests, volunteers, _ = _personal(database, ids)
    assert requests["RECENT"][3] is True and requests["OPEN"][3] is False
    assert volunteers["FRESH"][2] is True
    assert database.cli("audit", "verify").code == 0


def test_a_failed_request_is_closed_too(database):
    ids = _setup(database)
    with database.session() as s:
        request = s.get(Request, ids["OPEN"])
        request.status = "failed"
        request.closed_at = utcnow() - timedelta(days=181)
        s.commit()
    assert json.loads(database.cli("retention", "purge", "--json").out)["requests"] == 3
