"""Delivery reports by a signed-in :class:`Actor`, and idempotency keys: a repeated key
is the first report (nothing written again); a key reused for another report is
refused; who may report is checked object by object."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from engine.access import Actor
from engine.deliveries import KeyReused, TransitionRefused, mark_allocation, report_delivery
from engine.errors import Forbidden, InputError, NotFound
from engine.models import AuditEvent, Delivery
from tests.platform.batch_factories import make_allocation, make_batch
from tests.platform.factories import make_lot, make_org, make_request, make_user, make_volunteer


@pytest.fixture
def day(database):
    """crt: A1 and A2 on V1's route (published); utss: an organization of its own."""
    with database.session() as s:
        crt, utss = make_org(s, "crt"), make_org(s, "utss", region="TN-61")
        lot = make_lot(s, crt, quantity=10)
        v1, v2 = make_volunteer(s, crt, "V1"), make_volunteer(s, crt, "V2")
        batch = make_batch(s)
        a1 = make_allocation(s, batch, "A1", lot, make_request(s, crt, "R1"), 1, v1)
        a2 = make_allocation(s, batch, "A2", lot, make_request(s, crt, "R2"), 1, v1)
        u1 = make_user(s, "v1@example.org", "volunteer", crt, volunteer_id=v1.id)
        u2 = make_user(s, "v2@example.org", "volunteer", crt, volunteer_id=v2.id)
        s.commit()
        return {
            "batch": batch.id,
            "a1": a1.id,
            "a2": a2.id,
            "v1": Actor(u1.email, "volunteer", u1.id, crt.id, v1.id),
            "v2": Actor(u2.email, "volunteer", u2.id, crt.id, v2.id),
            "coordinator": Actor("c@crt", "coordinator", None, crt.id),
            "far": Actor("c@utss", "coordinator", None, utss.id),
            "staff": Actor("s@crt", "staff", None, crt.id),
            "admin": Actor("root", "admin"),
        }


def _count(database, model, *where):
    with database.session() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _mark(database, actor, allocation, kind, **kw):
    with database.session() as s:
        result = mark_allocation(s, actor, allocation, kind, **kw)
        s.commit()
        return result


def test_a_repeated_key_is_the_first_report(database, day):
    key = str(uuid.uuid4())
    first = _mark(database, day["v1"], day["a1"], "picked_up", idempotency_key=key)
    again = _mark(database, day["v1"], day["a1"], "picked_up", idempotency_key=key)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.status == first.status == "picked_up"
    assert again.allocation == first.allocation == f"{day['batch']}/A1"
    assert _count(database, Delivery) == 1
    assert _count(database, AuditEvent, AuditEvent.action == "delivery.picked_up") == 1
    with database.session() as s:
        assert s.execute(select(Delivery.idempotency_key)).scalar_one() == key


def test_a_key_reused_for_another_report_is_refused(database, day):
    key = str(uuid.uuid4())
    _mark(database, day["v1"], day["a1"], "picked_up", idempotency_key=key)
    with pytest.raises(KeyReused):
        _mark(database, day["v1"], day["a2"], "picked_up", idempotency_key=key)
    with pytest.raises(KeyReused):
        _mark(database, day["v1"], day["a1"], "failed", reason="x", idempotency_key=key)
    with pytest.raises(KeyReused):  # another account's key
        _mark(database, day["coordinator"], day["a1"], "picked_up", idempotency_key=key)
    assert _count(database, Delivery) == 1


def test_without_a_key_a_second_report_is_an_illegal_move(database, day):
    _mark(database, day["v1"], day["a1"], "picked_up")
    with pytest.raises(TransitionRefused) as refused:
        _mark(database, day["v1"], day["a1"], "picked_up")
    assert (refused.value.current, refused.value.new) == ("picked_up", "picked_up")


@pytest.mark.parametrize(
    ("who", "outcome"),
    [
        ("v1", None),  # holds the route
        ("coordinator", None),  # of the lot's organization
        ("admin", None),
        ("v2", NotFound),  # another route
        ("far", NotFound),  # another organization
        ("staff", Forbidden),
    ],
)
def test_who_may_mark(database, day, who, outcome):
    if outcome is None:
        assert _mark(database, day[who], day["a1"], "picked_up").status == "picked_up"
    else:
        with pytest.raises(outcome):
            _mark(database, day[who], day["a1"], "picked_up")
        assert _count(database, Delivery) == 0


def test_unknown_allocations_and_bad_keys(database, day):
    with pytest.raises(NotFound):
        _mark(database, day["admin"], 999_999, "picked_up")
    with pytest.raises(InputError, match="idempotency key"):
        _mark(database, day["v1"], day["a1"], "picked_up", idempotency_key="a b")


def test_the_command_line_takes_a_key_and_an_actor_too(database, day):
    key = str(uuid.uuid4())
    ref = f"{day['batch']}/A1"
    with database.session() as s:
        report_delivery(s, ref, "picked-up", "cli:test", idempotency_key=key)
        s.commit()
    with database.session() as s:
        again = report_delivery(s, ref, "picked-up", "cli:test", idempotency_key=key)
        assert again.replayed
        with pytest.raises(NotFound):
            report_delivery(s, ref, "delivered", day["v2"])
        done = report_delivery(s, ref, "delivered", day["v1"])
        s.commit()
    assert done.status == "delivered"
    with database.session() as s:
        actors = s.execute(select(Delivery.actor).order_by(Delivery.id)).scalars().all()
    assert actors == ["cli:test", "v1@example.org"]
