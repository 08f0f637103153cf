"""Publishing a draft from the review: all or nothing; a stale draft says why and
that the batch must be run again; CSRF and POST only."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from engine.models import AuditEvent, Batch, SupplyLot
from engine.models import Request as RequestRow
from tests.platform.conftest import TestDatabase
from tests.web.batch_helpers import BATCHES, add_requests, fresh_draft
from tests.web.world import World


def _reserved(database: TestDatabase) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.sum(SupplyLot.quantity_reserved))) or 0)


def test_publish_reserves_the_stock(signed_in: Any, web_db: TestDatabase) -> None:
    add_requests(web_db, 3)
    draft = fresh_draft(web_db)
    before = _reserved(web_db)
    response = signed_in("coordinator").post(f"{BATCHES}/{draft}/publish", follow_redirects=True)
    assert response.status_code == 200
    assert f"Batch {draft} published" in response.get_data(as_text=True)
    with web_db.session() as s:
        batch = s.get(Batch, draft)
        assert batch is not None and batch.status == "published"
        assert s.scalar(select(func.count()).where(AuditEvent.action == "batch.publish")) == 2
    assert _reserved(web_db) == before + 6


def test_a_stale_draft_says_so_and_changes_nothing(signed_in: Any, web_db: TestDatabase) -> None:
    add_requests(web_db, 3)
    draft = fresh_draft(web_db)
    with web_db.session() as s:  # a request of the draft was cancelled since
        request = s.execute(select(RequestRow).where(RequestRow.ref == "X2")).scalar_one()
        request.status = "cancelled"
        s.commit()
    before = _reserved(web_db)
    response = signed_in("coordinator").post(f"{BATCHES}/{draft}/publish")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "can no longer be published" in html and "Run the batch of this date again" in html
    assert "1 request(s) are no longer open" in html  # the engine's reason
    assert '<details class="run-again" open>' in html  # the run form, opened
    assert 'class="status status-draft"' in html  # the page reads the unchanged state
    with web_db.session() as s:
        batch = s.get(Batch, draft)
        assert batch is not None and batch.status == "draft"
    assert _reserved(web_db) == before


def test_only_a_draft_is_published(signed_in: Any, world: World) -> None:
    response = signed_in("admin").post(f"{BATCHES}/{world.published_batch}/publish")
    assert response.status_code == 409
    assert "only a draft can be published" in response.get_data(as_text=True)


def test_publish_needs_post_and_the_csrf_token(
    csrf_app: Flask, world: World, web_db: TestDatabase
) -> None:
    from tests.web.conftest import sign_in

    client = csrf_app.test_client()
    sign_in(client, world.email("coordinator"))
    assert client.get(f"{BATCHES}/{world.draft_batch}/publish").status_code == 405
    assert client.post(f"{BATCHES}/{world.draft_batch}/publish").status_code == 400
    page = client.get(f"{BATCHES}/{world.draft_batch}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    ok = client.post(f"{BATCHES}/{world.draft_batch}/publish", data={"csrf_token": token})
    assert ok.status_code == 303
    with web_db.session() as s:
        assert s.get(Batch, world.draft_batch).status == "published"  # type: ignore[union-attr]


def test_staff_may_not_publish(signed_in: Any, world: World, web_db: TestDatabase) -> None:
    assert signed_in("staff").post(f"{BATCHES}/{world.draft_batch}/publish").status_code == 403
    with web_db.session() as s:
        assert s.get(Batch, world.draft_batch).status == "draft"  # type: ignore[union-attr]
