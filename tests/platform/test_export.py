"""``jessr export archive --org CODE -o DIR``: the organization's records as CSV, its
own only, without household identifiers, pseudonyms or personal data, with a
manifest of SHA-256s and the archive head at export time; written whole or not."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime
from pathlib import Path

from engine import audit
from engine.households import pseudonym
from engine.models import Household
from tests.platform.batch_factories import (
    intake_events,
    make_allocation,
    make_batch,
    publish_events,
)
from tests.platform.factories import make_lot, make_org, make_request, make_volunteer

NATIONAL_ID = "11223344"
FILES = ["allocations.csv", "audit_events.csv", "deliveries.csv", "lots.csv", "requests.csv"]


def _day(database) -> tuple[int, str]:
    digest = pseudonym(database.settings().household_key, NATIONAL_ID)
    with database.session() as s:
        crt = make_org(s, "crt")
        other = make_org(s, "other", region="TN-42")
        family = s.merge(Household(pseudonym=digest))
        s.flush()
        lot = make_lot(s, crt, "L1", quantity=5, donor="PAM")
        r1 = make_request(
            s, crt, "R1", household=family, name="Amira B.", phone="+21620000000",
            address="12 rue de Carthage",
        )  # fmt: skip
        r2 = make_request(s, crt, "R2", household=family, category="hygiene.kit")
        r3 = make_request(s, crt, "R3")
        theirs = make_lot(s, other, "OL1")
        r9 = make_request(s, other, "R9", household=family)
        intake_events(s, [lot, r1, r2, r3, theirs, r9])
        volunteer = make_volunteer(s, crt, name="Karim S.", phone="+21699999999")
        batch = make_batch(s)
        a1 = make_allocation(s, batch, "A1", lot, r1, 1, volunteer)
        a2 = make_allocation(s, batch, "A2", theirs, r9, 1)  # another org's only
        a3 = make_allocation(s, batch, "A3", theirs, r3, 1)  # their lot, our request
        publish_events(s, batch, [a1, a2, a3])
        s.commit()
        batch_id = batch.id
    for plan_id, kind in (("A1", "picked-up"), ("A1", "delivered")):
        assert database.cli("delivery", f"{batch_id}/{plan_id}", kind).code == 0
    return batch_id, digest


def _read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def test_export_writes_the_organizations_records_and_a_manifest(database):
    batch, digest = _day(database)
    result = database.cli("export", "archive", "--org", "crt", "-o", "books")
    assert result.code == 0, result.err
    out = database.workdir / "books"
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "manifest.json"])
    assert not [p for p in database.workdir.iterdir() if p.name.startswith(".books")]

    lots = _read(out / "lots.csv")
    assert [(r["ref"], r["quantity_received"], r["quantity_delivered"]) for r in lots] == [
        ("L1", "5", "1")
    ]
    requests = _read(out / "requests.csv")
    assert [(r["ref"], r["household"], r["status"]) for r in requests] == [
        ("R1", "H1", "delivered"),
        ("R2", "H1", "open"),  # the same family: the same opaque number
        ("R3", "H2", "allocated"),
    ]
    assert "name" not in requests[0] and "phone" not in requests[0]
    allocations = _read(out / "allocations.csv")
    assert [(a["allocation"], a["lot"], a["request"]) for a in allocations] == [
        (f"{batch}/A1", "crt/L1", "crt/R1"),
        (f"{batch}/A3", "other/OL1", "crt/R3"),
    ]
    deliveries = _read(out / "deliveries.csv")
    assert [(d["allocation"], d["kind"]) for d in deliveries] == [
        (f"{batch}/A1", "picked_up"),
        (f"{batch}/A1", "delivered"),
    ]
    events = _read(out / "audit_events.csv")
    actions = [e["action"] for e in events]
    assert actions.count("request.add") == 3 and actions.count("lot.add") == 1
    assert "delivery.delivered" in actions and "lot.delivered" in actions
    assert actions.count("allocation.reserve") == 2  # A1, A3; not the other org's A2
    assert [int(e["seq"]) for e in events] == sorted(int(e["seq"]) for e in events)
    # Each unmasked event's hash is recomputable from its exported row.
    assert {e["masked"] for e in events if e["action"] == "request.add"} == {"yes"}
    unmasked = [e for e in events if e["masked"] == "no"]
    assert len(unmasked) == len(events) - 3
    for e in unmasked:
        recomputed = audit.event_hash(
            e["prev_hash"], int(e["seq"]), datetime.fromisoformat(e["at"]), e["actor"],
            e["action"], e["entity_type"], e["entity_id"], e["before"] or None,
            e["after"] or None, e["personal_digest"] or None,
        )  # fmt: skip
        assert recomputed == e["hash"], e
    with database.session() as s:
        head = audit.head(s)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["organization"] == "crt"
    assert manifest["audit_head"] == {"seq": head.seq, "hash": head.hash}
    for name in FILES:
        data = (out / name).read_bytes()
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["files"][name]["rows"] == len(_read(out / name))

    everything = "".join(p.read_text("utf-8") for p in out.iterdir())
    for secret in (NATIONAL_ID, digest, "Amira", "+216", "Carthage", "Karim", "0" * 64):
        assert secret not in everything, secret
    assert "OL1" not in (out / "lots.csv").read_text()


def test_export_replaces_a_previous_export_and_refuses_a_foreign_folder(database):
    _day(database)
    assert database.cli("export", "archive", "--org", "crt", "-o", "books").code == 0
    assert database.cli("delivery", "1/A3", "failed", "--reason", "x").code == 0
    assert database.cli("export", "archive", "--org", "crt", "-o", "books").code == 0
    allocations = _read(database.workdir / "books" / "allocations.csv")
    assert allocations[1]["status"] == "failed"

    foreign = database.workdir / "papers"
    foreign.mkdir()
    (foreign / "letter.txt").write_text("keep me")
    result = database.cli("export", "archive", "--org", "crt", "-o", "papers")
    assert result.code == 2 and "not empty" in result.err
    assert [p.name for p in foreign.iterdir()] == ["letter.txt"]

    result = database.cli("export", "archive", "--org", "nope", "-o", "new")
    assert result.code == 2 and "nope" in result.err
    assert not (database.workdir / "new").exists()
