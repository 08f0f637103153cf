"""The archive: events chain, personal data erases without breaking the chain, and
every raw-SQL tampering (edit, delete, insert, swap) is caught, naming the first
bad event. On PostgreSQL the trigger refuses edits; tampering there first disables
triggers as a superuser could (``session_replication_role = replica``)."""

from __future__ import annotations

import itertools
import json
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.models import AuditEvent

# A fresh database holds one event already: the reference data sync of `db upgrade`.
BASE = 1


def _fill(database, n=5, personal=None):
    with database.session() as s:
        for i in range(n):
            audit.record(
                s,
                "test",
                "thing.add",
                "thing",
                i,
                before=None,
                after={"n": i, "when": "2026-11-28"},
                personal=personal,
            )
        s.commit()


@contextmanager
def _raw(database):
    """A connection that bypasses the PostgreSQL guards, as a superuser could."""
    with database.engine.begin() as conn:
        if database.kind == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn


def _verify(database, expected_head=None):
    with database.session() as s:
        return audit.verify(s, expected_head=expected_head)


def test_events_chain_and_verify(database):
    _fill(database)
    with database.session() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [r.seq for r in rows] == list(range(1, BASE + 6))
        for prev, row in itertools.pairwise(rows):
            assert row.prev_hash == prev.hash
        assert audit.head(s) == audit.Head(rows[-1].seq, rows[-1].hash)
        assert json.loads(rows[-1].after) == {"n": 4, "when": "2026-11-28"}
    result = _verify(database)
    assert result.ok and result.events == BASE + 5, result.problem


def test_the_cli_verifies_and_prints_the_head(database):
    _fill(database, 3)
    ok = database.cli("audit", "verify")
    assert ok.code == 0 and f"{BASE + 3} events" in ok.out
    head = database.cli("audit", "head")
    assert head.code == 0
    with database.session() as s:
        assert head.out.strip() == audit.head(s).hash


def test_a_kept_head_must_still_be_in_the_chain(database):
    _fill(database, 2)
    kept = database.cli("audit", "head").out.strip()
    _fill(database, 2)
    assert database.cli("audit", "verify", "--head", kept).code == 0
    other = "f" * 64
    result = database.cli("audit", "verify", "--head", other)
    assert result.code == 1 and "not in the chain" in result.out


def test_personal_data_is_erasable_without_breaking_the_chain(database):
    _fill(database, 3, personal={"name": "Amel Ben Salah", "phone": "+216 20 000 000"})
    with database.session() as s:
        row = s.get(AuditEvent, BASE + 2)
        assert "Amel" in row.personal and "Amel" not in (row.after or "")
    with database.engine.begin() as conn:  # what the retention purge does; the trigger allows it
        conn.execute(
            text("UPDATE audit_events SET personal = NULL WHERE seq = :s"), {"s": BASE + 2}
        )
    result = _verify(database)
    assert result.ok, result.problem
    with database.session() as s:
        row = s.get(AuditEvent, BASE + 2)
        assert row.personal is None and len(row.personal_digest) == 64
        assert audit.personal_data(row) is None
        assert s.get(AuditEvent, BASE + 3).personal is not None  # others untouched


def test_the_same_personal_data_gets_a_different_digest_per_event(database):
    _fill(database, 2, personal={"name": "Amel"})
    with database.session() as s:
        digests = s.execute(
            select(AuditEvent.personal_digest).where(AuditEvent.seq > BASE)
        ).scalars()
        assert len(set(digests)) == 2


def test_edited_personal_data_is_caught(database):
    _fill(database, 3, personal={"name": "Amel"})
    with _raw(database) as conn:
        conn.execute(
            text(
                "UPDATE audit_events SET personal = replace(personal, 'Amel', 'Sami') "
                "WHERE seq = :s"
            ),
            {"s": BASE + 2},
        )
    result = _verify(database)
    assert not result.ok and result.bad_seq == BASE + 2
    assert "personal data" in result.problem


def _tamper_update(conn):
    conn.execute(
        text("UPDATE audit_events SET after = :a WHERE seq = :s"),
        {"a": '{"n":99,"when":"2026-11-28"}', "s": BASE + 3},
    )
    return BASE + 3


def _tamper_update_actor(conn):
    conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :s"), {"s": BASE + 2})
    return BASE + 2


def _tamper_delete(conn):
    conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": BASE + 3})
    return BASE + 3


def _tamper_delete_last(conn):
    conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": BASE + 5})
    return BASE + 5


def _tamper_insert(conn):
    # A made-up event appended after the last one, the head left alone.
    last = conn.execute(text("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")).scalar()
    conn.execute(
        text(
            "INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, "
            "prev_hash, hash) VALUES (:s, :at, 'mallory', 'thing.add', 'thing', '9', :p, :h)"
        ),
        {"s": BASE + 6, "at": "2026-11-28 10:00:00", "p": last, "h": "e" * 64},
    )
    return BASE + 6


def _tamper_insert_forged(conn):
    # A well-formed event (correct link and hash) whose author forgot the head row.
    from datetime import UTC, datetime

    last = conn.execute(text("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")).scalar()
    at = datetime(2026, 11, 28, 10, tzinfo=UTC)
    digest = audit.event_hash(last, BASE + 6, at, "mallory", "x", "thing", "9", None, None, None)
    conn.execute(
        text(
            "INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, "
            "prev_hash, hash) VALUES (:s, :at, 'mallory', 'x', 'thing', '9', :p, :h)"
        ),
        {"s": BASE + 6, "at": at, "p": last, "h": digest},
    )
    return BASE + 6


def _tamper_swap_contents(conn):
    # Events 2 and 3 (after the seed event) exchange everything but their seq.
    a, b = BASE + 2, BASE + 3
    cols = "at, actor, action, entity_type, entity_id, before, after, prev_hash, hash"
    rows = {
        s: conn.execute(text(f"SELECT {cols} FROM audit_events WHERE seq = :s"), {"s": s}).one()
        for s in (a, b)
    }
    for s, temporary in ((a, "1" * 64), (b, "2" * 64)):  # hash is unique: free both first
        conn.execute(
            text("UPDATE audit_events SET hash = :h WHERE seq = :s"), {"h": temporary, "s": s}
        )
    for target, source in ((a, b), (b, a)):
        r = rows[source]._mapping
        conn.execute(
            text(
                "UPDATE audit_events SET at = :at, actor = :actor, action = :action, "
                "entity_type = :entity_type, entity_id = :entity_id, before = :before, "
                "after = :after, prev_hash = :prev_hash, hash = :hash WHERE seq = :seq"
            ),
            {**r, "seq": target},
        )
    return a


def _tamper_swap_seq(conn):
    a, b = BASE + 2, BASE + 3
    conn.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = :s"), {"s": a})
    conn.execute(text("UPDATE audit_events SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    conn.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": b})
    return a


def _tamper_head(conn):
    conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": "a" * 64})
    return BASE + 5


TAMPERINGS = {
    "update": (_tamper_update, "edited"),
    "update-actor": (_tamper_update_actor, "edited"),
    "delete": (_tamper_delete, "missing"),
    "delete-last": (_tamper_delete_last, "missing"),
    "insert": (_tamper_insert, "beyond the chain head"),
    "insert-forged": (_tamper_insert_forged, "beyond the chain head"),
    "swap-contents": (_tamper_swap_contents, "link"),
    "swap-seq": (_tamper_swap_seq, "link"),
    "head": (_tamper_head, "head"),
}


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
def test_tampering_is_caught_and_the_first_bad_event_named(database, how):
    tamper, words = TAMPERINGS[how]
    _fill(database, 5)
    assert database.cli("audit", "verify").code == 0
    with _raw(database) as conn:
        bad = tamper(conn)
    result = _verify(database)
    assert not result.ok
    assert words in result.problem
    if how != "head":
        assert result.bad_seq == bad, result.problem
        assert f"event {bad}" in result.problem
    cli = database.cli("audit", "verify")
    assert cli.code == 1
    assert result.problem in cli.out and result.problem in cli.err
    assert "Traceback" not in cli.err


def test_insert_and_delete_inside_the_chain_are_caught(database):
    # Delete event 3 and renumber what follows, so seq has no gap.
    _fill(database, 5)
    with _raw(database) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": BASE + 3})
        for s in range(BASE + 4, BASE + 6):
            conn.execute(
                text("UPDATE audit_events SET seq = :n WHERE seq = :s"), {"n": s - 1, "s": s}
            )
    result = _verify(database)
    assert not result.ok and result.bad_seq == BASE + 3


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET after = '{}' WHERE seq = 2",
        "UPDATE audit_events SET personal = NULL, actor = 'x' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
        "TRUNCATE audit_events",
        "UPDATE audit_head SET seq = seq - 1",
        "UPDATE audit_head SET seq = seq + 2",
        "DELETE FROM audit_head",
    ],
)
def test_postgresql_refuses_to_rewrite_the_archive(database, statement):
    if database.kind != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    _fill(database, 3)
    with pytest.raises(DBAPIError, match="refused"), database.engine.begin() as conn:
        conn.execute(text(statement))
    assert _verify(database).ok


def test_events_of_one_entity_in_order(database):
    with database.session() as s:
        audit.record(s, "a", "lot.add", "lot", 7, after={"q": 1})
        audit.record(s, "a", "lot.add", "lot", 8, after={"q": 5})
        audit.record(s, "b", "lot.update", "lot", "7", before={"q": 1}, after={"q": 2})
        s.commit()
        story = audit.events_of(s, "lot", 7)
        assert [(e.action, e.actor, json.loads(e.after)) for e in story] == [
            ("lot.add", "a", {"q": 1}),
            ("lot.update", "b", {"q": 2}),
        ]
