"""Entering one record by hand (``engine.entries``): the import's rules, its archive
event, the actor's scope, and nothing written when anything is wrong."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import entries
from engine.access import Actor
from engine.entries import EntryRejected, NoAccount
from engine.errors import Forbidden, NotFound
from engine.households import pseudonym
from engine.models import AuditEvent, Household, LoginLink, Request, SupplyLot
from tests.imports.conftest import VALID
from tests.platform.conftest import TEST_HOUSEHOLD_KEY
from tests.platform.factories import DAY, make_org, make_site, make_user, make_volunteer
from tests.platform.importfiles import dump, row_counts, write

KEY = TEST_HOUSEHOLD_KEY.encode()
HOUSEHOLD = "07 654 321"


def _values(kind: str, **changes: str) -> dict[str, str]:
    values = {k: v for k, v in VALID[kind].items() if k != "org"}
    values.update(changes)
    return values


def _actors(session: Any) -> dict[str, Any]:
    crt = make_org(session, "crt")
    ados = make_org(session, "ados", "TN-42")
    own_site = make_site(session, crt, "depot")
    other_site = make_site(session, ados, "depot")  # the same code: sites go by id
    session.commit()
    return {
        "crt": crt.id,
        "ados": ados.id,
        "crt_org": crt,
        "ados_org": ados,
        "own_site": own_site.id,
        "other_site": other_site.id,
        "staff": Actor("staff@crt", "staff", user_id=None, org_id=crt.id),
        "coordinator": Actor("coord@crt", "coordinator", org_id=crt.id),
        "admin": Actor("admin@x", "admin"),
        "ados_staff": Actor("staff@ados", "staff", org_id=ados.id),
        "volunteer": Actor("v@crt", "volunteer", org_id=crt.id),
    }


def _request(session: Any, actor: Actor, org_id: int, **changes: str) -> Request:
    return entries.add_request(
        session,
        actor,
        org_id,
        _values("requests", ref="", **changes),
        household_key=KEY,
        today=DAY,
    )


def _events(session: Any, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return list(session.execute(query).scalars())


def test_an_entry_writes_what_an_import_row_writes(database, tmp_path):
    """Same row values, same archive event, no import event."""
    with database.session() as s:
        a = _actors(s)
        lot = entries.add_lot(s, a["staff"], a["crt"], _values("inventory", ref="FORM1"))
        s.commit()
        form_event = _events(s, "lot.add")[-1]
        assert form_event.actor == "staff@crt"
        assert form_event.entity_id == str(lot.id)
        assert _events(s, "import.commit") == []
    path = write(tmp_path / "lots.csv", "inventory", [{"ref": "FILE1"}])
    assert database.cli("import", "inventory", str(path), "--commit").code == 0
    with database.session() as s:
        file_event = _events(s, "lot.add")[-1]
        assert json.loads(form_event.after) == {**json.loads(file_event.after), "ref": "FORM1"}
        rows = {
            r.ref: r
            for r in s.execute(select(SupplyLot).where(SupplyLot.org_id == a["crt"])).scalars()
        }
        columns = ("category_id", "quantity_received", "lat", "lon", "region_code", "expires",
                   "donor", "regions", "received_on", "site_id")  # fmt: skip
        assert {c: getattr(rows["FORM1"], c) for c in columns} == {
            c: getattr(rows["FILE1"], c) for c in columns
        }


def test_a_request_is_stored_by_pseudonym_and_archived_with_its_personal_part(database):
    with database.session() as s:
        a = _actors(s)
        request = _request(s, a["staff"], a["crt"], household=HOUSEHOLD, name="Famille Trabelsi")
        s.commit()
        assert request.ref.startswith("R-20261128-")
        household = s.get(Household, request.household_id)
        assert household.pseudonym == pseudonym(KEY, "07654321")
        event = _events(s, "request.add")[-1]
        assert json.loads(event.after)["household"] == household.pseudonym
        assert "Famille Trabelsi" in event.personal and "Famille Trabelsi" not in event.after
        text = dump(s)
    for leak in ("07 654 321", "07654321", "654321"):
        assert leak not in text


def test_a_second_open_request_of_a_household_is_refused_in_any_organization(database):
    with database.session() as s:
        a = _actors(s)
        first = _request(s, a["staff"], a["crt"], household=HOUSEHOLD)
        s.commit()
        before = row_counts(s)
        # Written otherwise, filed a few days later, at another organization.
        with pytest.raises(EntryRejected) as caught:
            _request(s, a["ados_staff"], a["ados"], household="07-654-321", filed="2026-11-25")
        s.rollback()
        assert row_counts(s) == before
        (problem,) = caught.value.problems
        assert (problem.field, problem.code) == ("household", "duplicate_household")
        assert problem.params["other"] == f"crt/{first.ref}"
        assert problem.params["org_code"] == "crt"
        assert problem.params["filed"] == date(2026, 11, 20)
        assert problem.params["days"] == 14
        for leak in ("07-654-321", "07654321", "654321"):
            assert leak not in str(caught.value)
        # Another category, or 14 days apart: accepted.
        _request(s, a["ados_staff"], a["ados"], household=HOUSEHOLD, category="food.oil")
        later = (date(2026, 11, 20) + timedelta(days=14)).isoformat()
        _request(s, a["ados_staff"], a["ados"], household=HOUSEHOLD, filed=later)
        s.commit()


def test_every_bad_field_is_reported_at_once_and_nothing_is_written(database):
    with database.session() as s:
        a = _actors(s)
        before = row_counts(s)
        with pytest.raises(EntryRejected) as caught:
            _request(
                s,
                a["staff"],
                a["crt"],
                household=HOUSEHOLD,
                quantity="-3",
                priority="9",
                lat="36,8",
                phone="call me",
                window_start="18:00",
                window_end="09:00",
                name="x" * 201,
            )
        s.rollback()
        assert row_counts(s) == before
        found = {(p.field, p.code) for p in caught.value.problems}
        assert found == {
            ("quantity", "invalid"),
            ("priority", "invalid"),
            ("lat", "invalid"),
            ("phone", "invalid"),
            ("window_end", "order"),
            ("name", "too_long"),
        }
        limit = next(p for p in caught.value.problems if p.field == "name").params["limit"]
        assert limit == 200


def test_the_household_identifier_typed_into_another_field_is_refused(database):
    with database.session() as s:
        a = _actors(s)
        with pytest.raises(EntryRejected) as caught:
            _request(s, a["staff"], a["crt"], household=HOUSEHOLD, name="Famille 07654321")
        assert [(p.field, p.code) for p in caught.value.problems] == [("name", "reveals_household")]
        assert "07654321" not in str(caught.value)


def test_a_lot_at_another_organizations_site_is_refused(database):
    with database.session() as s:
        a = _actors(s)
        values = _values("inventory", ref="", lat="", lon="", region="")
        with pytest.raises(EntryRejected) as caught:
            entries.add_lot(s, a["staff"], a["crt"], values, site_id=a["other_site"])
        assert [(p.field, p.code) for p in caught.value.problems] == [("site", "unknown_site")]
        with pytest.raises(EntryRejected) as caught:
            entries.add_lot(s, a["staff"], a["crt"], values, site_id=999_999)
        assert [(p.field, p.code) for p in caught.value.problems] == [("site", "unknown_site")]
        with pytest.raises(EntryRejected) as caught:  # a site and coordinates: not both
            entries.add_lot(s, a["staff"], a["crt"], _values("inventory"), site_id=a["own_site"])
        assert {p.code for p in caught.value.problems} == {"site_and_place"}
        s.rollback()
        # The organization's own site: the lot lies there.
        own = entries.add_lot(s, a["staff"], a["crt"], values, site_id=a["own_site"])
        assert own.site_id == a["own_site"] and own.lat is None


def test_scope_staff_and_coordinators_enter_for_their_own_organization_only(database):
    with database.session() as s:
        a = _actors(s)
        with pytest.raises(NotFound):
            entries.add_lot(s, a["staff"], a["ados"], _values("inventory", ref=""))
        with pytest.raises(NotFound):
            _request(s, a["coordinator"], a["ados"], household=HOUSEHOLD)
        with pytest.raises(Forbidden):
            entries.add_lot(s, a["volunteer"], a["crt"], _values("inventory", ref=""))
        with pytest.raises(Forbidden):
            entries.add_volunteer(s, a["staff"], a["crt"], _values("volunteers"))
        with pytest.raises(NotFound):
            entries.add_lot(s, a["admin"], 999_999, _values("inventory", ref=""))
        lot = entries.add_lot(s, a["admin"], a["ados"], _values("inventory", ref=""))
        volunteer = entries.add_volunteer(s, a["admin"], a["ados"], _values("volunteers"))
        s.commit()
        assert lot.org_id == volunteer.org_id == a["ados"]
        assert lot.ref.startswith("D-")
        assert _events(s, "lot.add")[-1].actor == "admin@x"


def test_a_volunteer_entry_follows_the_import_rules(database):
    with database.session() as s:
        a = _actors(s)
        with pytest.raises(EntryRejected) as caught:
            entries.add_volunteer(
                s, a["coordinator"], a["crt"], _values("volunteers", shift_end="08:00")
            )
        assert [(p.field, p.code) for p in caught.value.problems] == [("shift_end", "order")]
        with pytest.raises(EntryRejected) as caught:
            entries.add_volunteer(
                s,
                a["coordinator"],
                a["crt"],
                _values("volunteers", capacity_kg="0", days="someday"),
            )
        assert {(p.field, p.code) for p in caught.value.problems} == {
            ("capacity_kg", "invalid"),
            ("days", "invalid"),
        }
        volunteer = entries.add_volunteer(s, a["coordinator"], a["crt"], _values("volunteers"))
        s.commit()
        assert volunteer.days == ["mon", "wed", "2026-11-28"]
        event = _events(s, "volunteer.add")[-1]
        assert "Sami" in event.personal
        with pytest.raises(EntryRejected) as caught:
            entries.add_volunteer(s, a["coordinator"], a["crt"], _values("volunteers"))
        assert [(p.field, p.code) for p in caught.value.problems] == [("ref", "ref_taken")]


def test_a_sign_in_link_for_a_volunteer_of_ones_own_organization(database):
    with database.session() as s:
        a = _actors(s)
        crt, ados = a["crt_org"], a["ados_org"]
        crt_volunteer = make_volunteer(s, crt, "V1")
        bare = make_volunteer(s, crt, "V2")
        other = make_volunteer(s, ados, "V1")
        user = make_user(s, "v1@crt", "volunteer", crt, volunteer_id=crt_volunteer.id)
        make_user(s, "v1@ados", "volunteer", ados, volunteer_id=other.id)
        s.commit()
        with pytest.raises(NotFound):
            entries.volunteer_login_link(s, a["coordinator"], other.id)
        with pytest.raises(Forbidden):
            entries.volunteer_login_link(s, a["staff"], crt_volunteer.id)
        with pytest.raises(NoAccount):
            entries.volunteer_login_link(s, a["coordinator"], bare.id)
        volunteer, account, token = entries.volunteer_login_link(
            s, a["coordinator"], crt_volunteer.id
        )
        s.commit()
        assert (volunteer.id, account.id) == (crt_volunteer.id, user.id)
        assert s.execute(select(LoginLink.user_id)).scalars().all() == [user.id]
        assert token not in dump(s)  # only its hash is stored
        assert _events(s, "user.link")[-1].actor == "coord@crt"


def test_two_entries_of_one_household_at_once_keep_the_rule(database):
    """The second entry waits for the first to commit, then sees its request."""
    if database.kind != "postgresql":
        pytest.skip("SQLite serialises writers with its file lock")
    import threading

    with database.session() as s:
        a = _actors(s)
    first = database.session()
    _request(first, a["staff"], a["crt"], household=HOUSEHOLD)  # not committed yet
    outcome: list[object] = []

    def second() -> None:
        with database.session() as s:
            try:
                _request(s, a["ados_staff"], a["ados"], household=HOUSEHOLD)
                s.commit()
                outcome.append("written")
            except EntryRejected as exc:
                outcome.append(exc.problems[0].code)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive() and outcome == []  # waiting for the first entry
    first.commit()
    first.close()
    thread.join(timeout=20)
    assert outcome == ["duplicate_household"]
