"""``engine.reveals``: a household's contact for the volunteer carrying its delivery,
from the batch's publication until one day after the delivery; every reveal archived
without the values; nobody else, never outside the window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine import audit
from engine.access import Actor
from engine.deliveries import mark_allocation
from engine.errors import ConflictError, Forbidden, NotFound
from engine.models import AuditEvent, Batch
from engine.reveals import contact_window, end_of_next_day, reveal_contact
from tests.platform.batch_factories import make_allocation, make_batch
from tests.platform.factories import (
    DAY,
    make_lot,
    make_org,
    make_request,
    make_user,
    make_volunteer,
)

PUBLISHED = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
PHONE = "+216 71 000 000"
ADDRESS = "3 rue de Marseille, Tunis"


@pytest.fixture
def route(database):
    """A published batch of DAY (published the evening before): A1 on V1's route; V2
    has a route too; accounts for both volunteers and a coordinator."""
    with database.session() as s:
        org = make_org(s)
        lot = make_lot(s, org, quantity=10)
        v1, v2 = make_volunteer(s, org, "V1"), make_volunteer(s, org, "V2")
        request = make_request(s, org, "R1", phone=PHONE, address=ADDRESS, name="Family X")
        batch = make_batch(s)
        batch.published_at = PUBLISHED
        a1 = make_allocation(s, batch, "A1", lot, request, 1, v1)
        u1 = make_user(s, "v1@example.org", "volunteer", org, volunteer_id=v1.id)
        u2 = make_user(s, "v2@example.org", "volunteer", org, volunteer_id=v2.id)
        s.commit()
        return {
            "batch": batch.id,
            "a1": a1.id,
            "request": request.id,
            "v1": Actor(u1.email, "volunteer", u1.id, org.id, v1.id),
            "v2": Actor(u2.email, "volunteer", u2.id, org.id, v2.id),
            "coordinator": Actor("c@example.org", "coordinator", None, org.id),
            "admin": Actor("root@example.org", "admin"),
        }


def _reveal(database, route, actor="v1", at=None):
    with database.session() as s:
        contact = reveal_contact(s, route[actor], route["a1"], at=at)
        s.commit()
        return contact


def _events(database):
    with database.session() as s:
        return list(
            s.execute(select(AuditEvent).where(AuditEvent.action == "household.reveal")).scalars()
        )


def test_inside_the_window_the_carrier_sees_the_contact_and_it_is_archived(database, route):
    contact = _reveal(database, route, at=PUBLISHED + timedelta(hours=15))
    assert (contact.phone, contact.address) == (PHONE, ADDRESS)
    (event,) = _events(database)
    assert event.actor == "v1@example.org"
    assert (event.entity_type, event.entity_id) == ("request", str(route["request"]))
    after = json.loads(event.after)
    assert after == {
        "allocation": f"{route['batch']}/A1",
        "fields": ["phone", "address"],
        "erased": False,
    }
    text = (event.before or "") + event.after
    assert PHONE not in text and ADDRESS not in text and "Family" not in text
    assert event.personal is None
    with database.session() as s:
        assert audit.verify(s).ok


@pytest.mark.parametrize(
    "at",
    [
        PUBLISHED - timedelta(minutes=1),  # before publication
        end_of_next_day(DAY),  # the window has closed (end of the day after the day)
        end_of_next_day(DAY) + timedelta(days=30),
    ],
    ids=["before", "after", "long-after"],
)
def test_outside_the_window_nothing_is_shown_nor_archived(database, route, at):
    with pytest.raises(ConflictError, match="one day after the delivery"):
        _reveal(database, route, at=at)
    assert _events(database) == []


def test_the_window_closes_a_day_after_the_delivery(database, route):
    with database.session() as s:
        for kind in ("picked_up", "delivered"):
            mark_allocation(s, route["v1"], route["a1"], kind)
        s.commit()
    from engine.models import Delivery

    with database.session() as s:
        delivered = s.execute(select(Delivery.at).where(Delivery.kind == "delivered")).scalar_one()
    delivered = delivered.replace(tzinfo=UTC) if delivered.tzinfo is None else delivered
    _reveal(database, route, at=delivered + timedelta(hours=23))
    with pytest.raises(ConflictError):
        _reveal(database, route, at=delivered + timedelta(hours=25))


def test_the_window_of_a_draft_or_a_cancelled_allocation_is_empty():
    assert contact_window(DAY, "draft", None, "planned", None) is None
    assert contact_window(DAY, "superseded", PUBLISHED, "planned", None) is None
    assert contact_window(DAY, "published", PUBLISHED, "cancelled", None) is None
    window = contact_window(DAY, "closed", PUBLISHED, "failed", None)
    assert window is not None and window.closes == end_of_next_day(DAY)


def test_before_publication_a_draft_reveals_nothing(database, route):
    with database.session() as s:
        batch = s.get(Batch, route["batch"])
        batch.status, batch.published_at = "draft", None
        s.commit()
    with pytest.raises(ConflictError):
        _reveal(database, route, at=PUBLISHED + timedelta(hours=1))


@pytest.mark.parametrize(
    ("actor", "error"),
    [("v2", NotFound), ("admin", NotFound), ("coordinator", Forbidden)],
)
def test_nobody_but_the_carrier_sees_it(database, route, actor, error):
    with pytest.raises(error):
        _reveal(database, route, actor=actor, at=PUBLISHED + timedelta(hours=1))
    assert _events(database) == []
