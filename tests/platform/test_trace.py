"""``jessr trace lot|request|household``: every event of the record's story, oldest
first, with who and when; a household's requests across organizations; never the
household's identifier nor its pseudonym."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from engine.households import pseudonym
from engine.models import AuditEvent, Household
from tests.platform.batch_factories import (
    intake_events,
    make_allocation,
    make_batch,
    publish_events,
)
from tests.platform.factories import make_lot, make_org, make_request, make_volunteer

NATIONAL_ID = "08123456"


@dataclass
class Story:
    batch: int
    pseudonym: str


@pytest.fixture
def story(database) -> Story:
    """crt's lot L1 and request R1 (household NATIONAL_ID), also known to `other` as
    R9; a published batch allocates L1 to R1 (A1) and to R2 (A2); A1 is then picked
    up and delivered, A2 failed."""
    key = database.settings().household_key
    digest = pseudonym(key, NATIONAL_ID)
    with database.session() as s:
        crt = make_org(s, "crt")
        other = make_org(s, "other", region="TN-42")
        family = s.merge(Household(pseudonym=digest))
        s.flush()
        lot = make_lot(s, crt, "L1", quantity=5)
        r1 = make_request(s, crt, "R1", household=family, name="Amira B.", phone="+21620000000")
        r2 = make_request(s, crt, "R2")
        r9 = make_request(s, other, "R9", household=family, category="hygiene.kit")
        make_lot(s, other, "L1")  # the same ref in another organization
        make_request(s, other, "R1")
        intake_events(s, [lot, r1, r2, r9])
        volunteer = make_volunteer(s, crt)
        batch = make_batch(s)
        a1 = make_allocation(s, batch, "A1", lot, r1, 1, volunteer)
        a2 = make_allocation(s, batch, "A2", lot, r2, 1, volunteer)
        publish_events(s, batch, [a1, a2])
        s.commit()
        batch_id = batch.id
    for args in (
        ("A1", "picked-up"),
        ("A1", "delivered"),
        ("A2", "failed", "--reason", "nobody home"),
    ):
        result = database.cli("delivery", f"{batch_id}/{args[0]}", *args[1:])
        assert result.code == 0, result.err
    return Story(batch_id, digest)


def _trace(database, *args):
    result = database.cli("trace", *args)
    assert result.code == 0, (result.out, result.err)
    return result.out


def test_lot_trace_tells_the_whole_story_in_order(database, story):
    out = _trace(database, "lot", "crt/L1")
    assert out.startswith("lot crt/L1\n")
    assert "quantity_delivered: 1" in out and "quantity_reserved: 0" in out
    assert f"{story.batch}/A1 (batch of 2026-11-28, published): 1 of lot crt/L1" in out
    history = out.split("history:\n", 1)[1].splitlines()
    actions = [line.split()[2] for line in history]
    assert actions == [
        "lot.add",
        "batch.publish",
        "allocation.reserve",
        "allocation.reserve",
        "delivery.picked_up",
        "delivery.delivered",
        "lot.delivered",
        "delivery.failed",
        "lot.released",
    ]
    assert "by staff@example.org" in history[0] and "by test" in history[-1]
    assert "quantity_delivered: 0 → 1" in history[6]
    assert "reason=nobody home" in history[7]
    data = json.loads(_trace(database, "lot", "L1", "--org", "crt", "--json"))
    seqs = [e["seq"] for e in data["history"]]
    assert seqs == sorted(seqs) and len(seqs) == len(history)
    # Complete: every event about the lot, its allocations and its batch is there.
    with database.session() as s:
        about = s.execute(
            select(AuditEvent.seq).where(
                AuditEvent.entity_type.in_(("lot", "allocation", "batch")),
                AuditEvent.entity_id.in_(("1", "2", str(story.batch))),
                AuditEvent.action != "request.add",
            )
        ).scalars()
        assert set(seqs) == set(about)


def test_request_trace_from_intake_to_delivery(database, story):
    out = _trace(database, "request", "crt/R1")
    assert "status: delivered" in out and "personal_data: held" in out
    history = out.split("history:\n", 1)[1].splitlines()
    assert [line.split()[2] for line in history] == [
        "request.add",
        "batch.publish",
        "allocation.reserve",
        "delivery.picked_up",
        "request.in_transit",
        "delivery.delivered",
        "request.delivered",
    ]
    assert "Amira" not in out and "+216" not in out  # no personal data
    assert story.pseudonym not in out and "0" * 64 not in out  # household masked
    failed = _trace(database, "request", "R2", "--org", "crt")
    assert "status: open" in failed
    assert "request.open" in failed and "reason: " not in failed.split("history:")[0]


def test_household_trace_across_organizations_never_shows_the_identifier(database, story):
    result = database.cli("trace", "household", NATIONAL_ID)
    assert result.code == 0, result.err
    out = result.out
    assert "2 request(s) in 2 organization(s) (crt, other)" in out
    assert "request crt/R1" in out and "request other/R9" in out
    assert "delivery.delivered" in out
    assert NATIONAL_ID not in out + result.err
    assert story.pseudonym not in out
    data = json.loads(_trace(database, "household", f"crt/{NATIONAL_ID}", "--json"))
    assert [p["ref"] for p in data["requests"]] == ["crt/R1", "other/R9"]
    assert NATIONAL_ID not in json.dumps(data) and story.pseudonym not in json.dumps(data)
    # The identifier in another spelling (the normalisation) is the same family.
    assert "request other/R9" in _trace(database, "household", "0812-3456")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("lot", "L1"), ["ambiguous", "crt/L1", "other/L1"]),
        (("lot", "crt/L7"), ["no lot crt/L7"]),
        (("request", "R1", "--org", "nope"), ["no request R1 of nope"]),
        (("request", "crt/R1", "--org", "other"), ["belongs to crt"]),
        (("household", "99999999"), ["no household"]),
    ],
)
def test_unknown_or_ambiguous_refs_exit_2(database, story, args, words):
    result = database.cli("trace", *args)
    assert result.code == 2, (result.out, result.err)
    line = result.err.strip()
    assert line.startswith("jessr: trace") and "\n" not in line
    for word in words:
        assert word in line
    assert "99999999" not in line


@pytest.mark.parametrize(
    "args",
    [
        ("trace", "lot", "crt/L1"),
        ("delivery", "1/A1", "picked-up"),
        ("export", "archive", "--org", "crt", "-o", "books"),
        ("retention", "purge", "--dry-run"),
    ],
)
def test_an_unmigrated_database_is_refused_in_one_line(empty_database, args):
    result = empty_database.cli(*args)
    assert result.code == 2, (result.out, result.err)
    assert "jessr db upgrade" in result.err and len(result.err.strip().splitlines()) == 1
