"""``engine.availability``: a volunteer's ticks for the coming fortnight change only
those dates of their ``days`` rule, and the day's snapshot honours them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.access import Actor
from engine.availability import horizon, plan_days, set_availability
from engine.errors import Forbidden, InputError
from engine.models import AuditEvent, Volunteer
from engine.snapshot import available_on, snapshot
from tests.platform.factories import make_org, make_user, make_volunteer

MONDAY = date(2026, 12, 7)
FORTNIGHT = horizon(MONDAY)


def _available(days, dates=FORTNIGHT):
    return [d for d in dates if available_on(days, d)]


def test_every_day_with_one_day_off_excludes_that_date_only():
    off = MONDAY + timedelta(days=2)
    days = plan_days(None, MONDAY, [d for d in FORTNIGHT if d != off])
    assert days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun", f"!{off.isoformat()}"]
    assert _available(days) == [d for d in FORTNIGHT if d != off]
    later = MONDAY + timedelta(days=30)
    assert available_on(days, later)  # beyond the fortnight: every day, as before


def test_a_weekday_rule_is_kept_beyond_the_fortnight():
    thursday = MONDAY + timedelta(days=3)
    days = plan_days(["mon", "wed"], MONDAY, [MONDAY, thursday])
    assert _available(days) == [MONDAY, thursday]
    assert available_on(days, MONDAY + timedelta(days=21))  # a Monday three weeks on
    assert not available_on(days, MONDAY + timedelta(days=22))  # a Tuesday


def test_ticking_everything_again_is_every_day_and_past_dates_are_dropped():
    days = plan_days(["mon", "2026-11-30", "!2026-12-01"], MONDAY, FORTNIGHT)
    assert "2026-11-30" not in days and "!2026-12-01" not in days
    assert _available(days) == FORTNIGHT
    assert plan_days(["!2026-12-08"], MONDAY, FORTNIGHT) == [
        "2026-12-07",
        "2026-12-08",
        "2026-12-09",
        "2026-12-10",
        "2026-12-11",
        "2026-12-12",
        "2026-12-13",
        "2026-12-14",
        "2026-12-15",
        "2026-12-16",
        "2026-12-17",
        "2026-12-18",
        "2026-12-19",
        "2026-12-20",
    ]
    assert plan_days(None, MONDAY, FORTNIGHT) is None
    assert plan_days(["mon"], MONDAY, []) == ["mon", "!2026-12-07", "!2026-12-14"]


def test_a_date_outside_the_fortnight_is_refused():
    with pytest.raises(InputError, match="2026-12-21"):
        plan_days(None, MONDAY, [MONDAY + timedelta(days=14)])


def test_saving_is_archived_and_the_snapshot_honours_it(database):
    with database.session() as s:
        org = make_org(s)
        volunteer = make_volunteer(s, org, "V1")
        user = make_user(s, "v1@example.org", "volunteer", org, volunteer_id=volunteer.id)
        s.commit()
        actor = Actor(user.email, "volunteer", user.id, org.id, volunteer.id)
    off = MONDAY + timedelta(days=1)
    with database.session() as s:
        change = set_availability(s, actor, MONDAY, [d for d in FORTNIGHT if d != off])
        s.commit()
    assert change.changed and change.before is None and change.routes_kept == []
    with database.session() as s:
        assert s.get(Volunteer, volunteer.id).days == change.after
        (event,) = s.execute(
            select(AuditEvent).where(AuditEvent.action == "volunteer.availability")
        ).scalars()
        assert event.actor == "v1@example.org"
        assert json.loads(event.after)["days"] == change.after
        assert [v.id for v in snapshot(s, off).scenario.volunteers] == []
        assert [v.id for v in snapshot(s, MONDAY).scenario.volunteers] == ["crt/V1"]
    with database.session() as s:  # the same choice again: nothing changes, no event
        again = set_availability(s, actor, MONDAY, [d for d in FORTNIGHT if d != off])
        s.commit()
        assert not again.changed
        events = s.execute(
            select(AuditEvent).where(AuditEvent.action == "volunteer.availability")
        ).all()
        assert len(events) == 1


def test_only_a_volunteer_sets_their_availability(database):
    with database.session() as s:
        org = make_org(s)
        s.commit()
        with pytest.raises(Forbidden):
            set_availability(s, Actor("c@example.org", "coordinator", None, org.id), MONDAY, [])
        with pytest.raises(Forbidden):  # an admin has no volunteer record
            set_availability(s, Actor("root@example.org", "admin"), MONDAY, [])
