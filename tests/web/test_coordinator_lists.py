"""The lists (``/coordinator/requests``, ``/lots``, ``/volunteers``): scope, filters,
pages; and the volunteer's sign-in link, made by POST and shown once."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import func, select

from engine.models import AuditEvent, LoginLink, Organization
from tests.platform import factories as f
from tests.web.world import World


def rows(body: str) -> list[str]:
    """The row headers (references) of the page's table."""
    return re.findall(r'<th scope="row">([^<]*)', body)


def test_requests_of_ones_own_organization_filtered(
    signed_in: Any, world: World, web_db: Any
) -> None:
    with web_db.session() as s:  # the world's requests are all allocated by its batch
        for side in ("own", "other"):
            org = s.get(Organization, world.ids[side]["org_id"])
            f.make_request(s, org, "O1", category="food.oil", name=f"Open {org.code}")
        s.commit()
    client = signed_in("staff")
    body = client.get("/coordinator/requests").get_data(as_text=True)
    assert rows(body) == ["O1"] and "Open crt" in body
    assert "Open utss" not in body and "Family utss" not in body
    everything = rows(client.get("/coordinator/requests?status=all").get_data(as_text=True))
    assert set(everything) == {"O1", *(f"R{i}" for i in range(1, 7))}
    allocated = rows(client.get("/coordinator/requests?status=allocated").get_data(as_text=True))
    assert set(allocated) == {f"R{i}" for i in range(1, 7)}
    assert rows(client.get("/coordinator/requests?status=all&region=TN-61").get_data(True)) == []
    assert rows(
        client.get("/coordinator/requests?status=all&category=food.oil").get_data(True)
    ) == ["O1"]
    # A bad filter is said, and the default list shown.
    response = client.get("/coordinator/requests?status=lost")
    assert response.status_code == 400
    assert "Not a valid choice" in html.unescape(response.get_data(as_text=True))
    assert rows(response.get_data(as_text=True)) == ["O1"]
    french = client.get("/coordinator/requests?status=lost&lang=fr").get_data(as_text=True)
    assert "N'est pas un choix valide." in html.unescape(french)
    # Another organization: not found; an admin sees both, or one.
    other = world.ids["other"]["org_id"]
    assert client.get(f"/coordinator/requests?org={other}").status_code == 404
    admin = signed_in("admin")
    both = rows(admin.get("/coordinator/requests?status=all").get_data(as_text=True))
    assert len(both) == 14 and "utss/R1" in both and "crt/O1" in both
    only = rows(admin.get(f"/coordinator/requests?status=all&org={other}").get_data(True))
    assert sorted(only) == sorted(["utss/O1", *(f"utss/R{i}" for i in range(1, 7))])


def test_requests_are_paginated(signed_in: Any, world: World, web_db: Any) -> None:
    with web_db.session() as s:
        crt = s.get(Organization, world.ids["own"]["org_id"])
        for i in range(60):
            f.make_request(s, crt, f"P{i:02d}", region="TN-11", priority=1)
        s.commit()
    client = signed_in("coordinator")
    first = client.get("/coordinator/requests?region=TN-11").get_data(as_text=True)
    assert len(rows(first)) == 50 and "Page 1 of 2" in first
    assert 'href="/coordinator/requests?region=TN-11&amp;page=2" rel="next"' in first
    second = client.get("/coordinator/requests?region=TN-11&page=2").get_data(as_text=True)
    assert len(rows(second)) == len(
        rows(client.get("/coordinator/requests?region=TN-11&page=2").get_data(True))
    )
    assert set(rows(first)).isdisjoint(rows(second))
    assert len(rows(first)) + len(rows(second)) == 60 + 0
    assert client.get("/coordinator/requests?page=0").status_code == 400


def test_lots_by_stock_state(signed_in: Any, world: World, web_db: Any) -> None:
    from datetime import date, timedelta

    today = date.today()
    with web_db.session() as s:
        crt = s.get(Organization, world.ids["own"]["org_id"])
        f.make_lot(s, crt, "SOON", 4, expires=today + timedelta(days=2))
        f.make_lot(s, crt, "OLD", 4, expires=today - timedelta(days=2))
        f.make_lot(s, crt, "EMPTY", 4, quantity_delivered=4)
        s.commit()
    client = signed_in("staff")
    available = client.get("/coordinator/lots").get_data(as_text=True)
    assert "SOON" in rows(available) and "OLD" not in rows(available)
    assert "expires soon" in available
    assert rows(client.get("/coordinator/lots?state=expired").get_data(True)) == ["OLD"]
    assert rows(client.get("/coordinator/lots?state=used_up").get_data(True)) == ["EMPTY"]
    assert "utss" not in client.get("/coordinator/lots?state=all").get_data(as_text=True)


def test_volunteers_and_their_sign_in_link(signed_in: Any, world: World, web_db: Any) -> None:
    client = signed_in("coordinator")
    body = client.get("/coordinator/volunteers").get_data(as_text=True)
    assert rows(body) == ["V1", "V2"]
    own = world.ids["own"]["volunteer_id"]
    assert body.count("Send a sign-in link") == 1  # V1 has an account, V2 none
    assert signed_in("staff").get("/coordinator/volunteers").status_code == 403
    # GET changes nothing: the link is made by POST only.
    assert client.get(f"/coordinator/volunteers/{own}/sign-in-link").status_code == 405
    response = client.post(f"/coordinator/volunteers/{own}/sign-in-link")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    link = re.search(r'<code id="sign-in-link">(http://localhost/login/link/[^<]+)</code>', page)
    assert link is not None and world.email("volunteer") in page
    with web_db.session() as s:
        assert s.execute(select(func.count()).select_from(LoginLink)).scalar_one() == 1
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "user.link")).scalar_one()
        assert event.actor == world.email("coordinator")
    # The link signs the volunteer in, once.
    phone = signed_in(None)
    path = link[1].removeprefix("http://localhost")
    assert phone.post(path).headers["Location"].endswith("/volunteer/")
    assert signed_in(None).post(path).status_code == 410
    # Another organization's volunteer: not found; one without an account: said.
    other = world.ids["other"]["volunteer_id"]
    assert client.post(f"/coordinator/volunteers/{other}/sign-in-link").status_code == 404
    assert signed_in("staff").post(f"/coordinator/volunteers/{own}/sign-in-link").status_code == 403
    with web_db.session() as s:
        from engine.models import Volunteer

        bare = s.execute(
            select(Volunteer.id).where(
                Volunteer.org_id == world.ids["own"]["org_id"], Volunteer.ref == "V2"
            )
        ).scalar_one()
    response = client.post(f"/coordinator/volunteers/{bare}/sign-in-link", follow_redirects=True)
    assert "This volunteer has no active account to sign in with." in response.get_data(True)
    # An admin may make one for any organization's volunteer.
    assert (
        signed_in("admin").post(f"/coordinator/volunteers/{other}/sign-in-link").status_code == 200
    )
