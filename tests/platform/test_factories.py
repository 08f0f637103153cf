"""The row factories give valid rows on both databases (other tests build on them)."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import Request, SupplyLot
from tests.platform.factories import (
    make_lot,
    make_org,
    make_request,
    make_site,
    make_user,
    make_volunteer,
)


def test_factories_make_a_small_valid_day(database):
    with database.session() as s:
        crt = make_org(s)
        ks = make_org(s, "crt-ks", region="TN-42", parent_id=crt.id)
        depot = make_site(s, crt)
        make_lot(s, crt, "L1")
        make_lot(s, crt, "L2", quantity=3, site=depot, category="food.flour")
        for i in range(3):
            make_request(s, ks, f"R{i}")
        volunteer = make_volunteer(s, ks)
        make_user(s, "v@example.org", role="volunteer", org=ks, volunteer_id=volunteer.id)
        s.commit()
        assert s.scalar(select(func.sum(SupplyLot.quantity_received))) == 13
        assert s.scalar(select(func.count()).where(Request.status == "open")) == 3
