"""The services behind the admin pages, on SQLite and PostgreSQL: roles refused, the
catalogue kept as admins made it across ``jessr db upgrade``'s seed, traces scoped."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import audit, categories, organizations, trace, users
from engine.access import Actor, system_actor
from engine.db.seed import seed_reference
from engine.errors import FieldError, Forbidden, NotFound
from engine.models import AuditEvent, Category
from tests.platform import factories as f

ADMIN = system_actor("admin@example.org")
NAMES = {"ar": "علبة تمر", "fr": "Boîte de dattes", "en": "Box of dates"}


def test_non_admins_are_refused(database) -> None:
    coordinator = Actor("c@example.org", "coordinator", user_id=1, org_id=1)
    with database.session() as s:
        for call in (
            lambda: categories.add_category(s, coordinator, "x.y", NAMES, "box", 1.0),
            lambda: organizations.create_organization(s, coordinator, "tbs", "T", "TN-11"),
            lambda: users.create_user(s, coordinator, "a@b.org", "admin"),
            lambda: audit.search_events(s, coordinator),
            lambda: audit.verify_archive(s, coordinator),
        ):
            with pytest.raises(Forbidden):
                call()


def test_seed_keeps_what_admins_changed(database) -> None:
    with database.session() as s:
        basket = s.get(Category, "food.basket")
        names = dict(basket.names)
        categories.update_category(s, ADMIN, "food.basket", names, "basket", 16.0, False)
        categories.add_category(s, ADMIN, "food.dates", NAMES, "box", 1.5)
        s.get(Category, "food.flour").weight_kg = 99.0  # not through the service
        s.commit()
        seed_reference(s, "upgrade")
        s.commit()
        assert s.get(Category, "food.basket").weight_kg == 16.0  # the admin's change stays
        assert s.get(Category, "food.dates") is not None
        assert s.get(Category, "food.flour").weight_kg == 25.0  # the shipped value is back
        # A deleted shipped category is not brought back either.
        categories.delete_category(s, ADMIN, "food.oil")
        s.commit()
        seed_reference(s, "upgrade")
        s.commit()
        assert s.get(Category, "food.oil") is None
        assert audit.verify(s).ok


def test_category_in_use_and_unchanged_edit(database) -> None:
    with database.session() as s:
        org = f.make_org(s)
        f.make_lot(s, org)
        s.commit()
        with pytest.raises(FieldError) as refused:
            categories.delete_category(s, ADMIN, "food.basket")
        assert refused.value.code == "in_use" and refused.value.params["lots"] == 1
        basket = s.get(Category, "food.basket")
        count = len(list(s.execute(select(AuditEvent)).scalars()))
        categories.update_category(
            s, ADMIN, "food.basket", dict(basket.names), basket.unit, basket.weight_kg,
            basket.perishable,
        )  # fmt: skip
        assert len(list(s.execute(select(AuditEvent)).scalars())) == count


def test_traces_are_scoped_to_the_organization(database) -> None:
    with database.session() as s:
        own, other = f.make_org(s, "crt"), f.make_org(s, "utss", "TN-61")
        mine, theirs = f.make_lot(s, own, "L1"), f.make_lot(s, other, "L1")
        s.commit()
        coordinator = Actor("c@example.org", "coordinator", user_id=1, org_id=own.id)
        assert trace.trace_by_id(s, coordinator, "lot", mine.id).label == "crt/L1"
        with pytest.raises(NotFound):
            trace.trace_by_id(s, coordinator, "lot", theirs.id)
        with pytest.raises(NotFound):
            trace.find_record(s, coordinator, "lot", "utss/L1")
        assert trace.find_record(s, ADMIN, "lot", "utss/L1") == theirs.id
        staff = Actor("s@example.org", "staff", user_id=2, org_id=own.id)
        with pytest.raises(Forbidden):
            trace.trace_by_id(s, staff, "lot", mine.id)


def test_search_by_org_ref_and_dates(database) -> None:
    with database.session() as s:
        org = organizations.create_organization(s, ADMIN, "crt", "CRT", "TN-11")
        organizations.update_organization(s, ADMIN, "crt", "CRT Tunis", "TN-11")
        s.commit()
        found = audit.search_events(s, ADMIN, entity_type="organization", entity="crt")
        assert [e.action for e in found.events] == ["organization.update", "organization.add"]
        assert all(e.entity_id == str(org.id) for e in found.events)
        today = found.events[0].at.date()
        assert audit.search_events(s, ADMIN, since=today, until=today).total >= 2
        assert audit.search_events(s, ADMIN, action="organization").total == 2
        assert audit.search_events(s, ADMIN, action="organ").total == 0
