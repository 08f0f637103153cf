"""Excluding and pinning allocations from the review, re-running from the web,
clearing; CSRF and POST only."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from engine.models import AuditEvent, PlanAdjustment
from tests.platform.conftest import TestDatabase
from tests.web.batch_helpers import (
    BATCHES,
    add_requests,
    fresh_draft,
    job_id_of,
    plan_of,
    wait_for_jobs,
)
from tests.web.world import NEXT_DAY, World

RUN = {"date": NEXT_DAY.isoformat(), "budget": "iterations", "iterations": "30", "seed": "0"}


def _rerun(app: Flask, client: Any) -> int:
    response = client.post(f"{BATCHES}/run", data=RUN)
    assert response.status_code == 303
    job_id = job_id_of(response.headers["Location"])
    wait_for_jobs(app)
    body = client.get(f"{BATCHES}/jobs/{job_id}.json").get_json()
    assert body["status"] == "done", body
    return int(body["batch_id"])


def test_exclude_then_rerun_leaves_the_pair_out(
    app: Flask, signed_in: Any, web_db: TestDatabase
) -> None:
    add_requests(web_db, 6, priority=5)
    draft = fresh_draft(web_db)
    first = plan_of(web_db, draft)["allocations"][0]
    client = signed_in("coordinator")
    response = client.post(
        f"{BATCHES}/{draft}/adjust", data={"allocation": "A1", "kind": "exclude"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{BATCHES}/{draft}#adjustments")
    page = client.get(f"{BATCHES}/{draft}").get_data(as_text=True)
    assert "Allocation A1 excluded" in page
    section = page.split('id="adjustments"', 1)[1]
    assert first["supply"] in section and first["request"] in section
    assert "added after this draft: run the batch again" in section
    with web_db.session() as s:
        row = s.execute(select(PlanAdjustment)).scalar_one()
        assert (row.kind, row.date, row.cleared_at) == ("exclude", NEXT_DAY, None)
        event = s.execute(
            select(AuditEvent).where(AuditEvent.action == "plan_adjustment.exclude")
        ).scalar_one()
        assert event.entity_id == str(row.id)

    second = _rerun(app, client)
    pairs = {(a["supply"], a["request"]) for a in plan_of(web_db, second)["allocations"]}
    assert (first["supply"], first["request"]) not in pairs
    again = client.get(f"{BATCHES}/{second}").get_data(as_text=True)
    assert "applied" in again.split('id="adjustments"', 1)[1]


def test_pin_then_rerun_keeps_the_allocation(
    app: Flask, signed_in: Any, web_db: TestDatabase
) -> None:
    add_requests(web_db, 6, priority=2)
    draft = fresh_draft(web_db)
    pinned = plan_of(web_db, draft)["allocations"][-1]
    plan_id = plan_of(web_db, draft)["allocations"][-1]["id"]
    client = signed_in("coordinator")
    assert (
        client.post(
            f"{BATCHES}/{draft}/adjust", data={"allocation": plan_id, "kind": "pin"}
        ).status_code
        == 303
    )
    add_requests(web_db, 8, priority=5, prefix="U")  # more urgent needs arrive
    second = _rerun(app, client)
    allocations = plan_of(web_db, second)["allocations"]
    assert (allocations[0]["supply"], allocations[0]["request"], allocations[0]["quantity"]) == (
        pinned["supply"],
        pinned["request"],
        pinned["quantity"],
    )
    page = client.get(f"{BATCHES}/{second}").get_data(as_text=True)
    assert '<th scope="row">A1 <span class="tag">pinned</span></th>' in page


def test_clear_removes_the_adjustment(signed_in: Any, web_db: TestDatabase) -> None:
    add_requests(web_db, 3)
    draft = fresh_draft(web_db)
    client = signed_in("admin")
    client.post(f"{BATCHES}/{draft}/adjust", data={"allocation": "A1", "kind": "pin"})
    with web_db.session() as s:
        adjustment_id = s.execute(select(PlanAdjustment.id)).scalar_one()
    response = client.post(
        f"{BATCHES}/{draft}/adjustments/clear",
        data={"adjustment": str(adjustment_id)},
        follow_redirects=True,
    )
    assert "Adjustment cleared" in response.get_data(as_text=True)
    with web_db.session() as s:
        assert s.get(PlanAdjustment, adjustment_id).cleared_at is not None  # type: ignore[union-attr]
    again = client.post(
        f"{BATCHES}/{draft}/adjustments/clear",
        data={"adjustment": str(adjustment_id)},
        follow_redirects=True,
    )
    assert "already cleared" in again.get_data(as_text=True)


def test_bad_adjustments_say_what_is_wrong_and_write_nothing(
    signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    add_requests(web_db, 3)
    draft = fresh_draft(web_db)
    client = signed_in("coordinator")
    for data, message in (
        ({"allocation": "A999", "kind": "pin"}, "This draft has no allocation A999."),
        ({"allocation": "A1", "kind": "drop"}, "Choose an allocation and exclude or pin."),
        ({"kind": "pin"}, "Choose an allocation and exclude or pin."),
    ):
        page = client.post(f"{BATCHES}/{draft}/adjust", data=data, follow_redirects=True)
        assert message in page.get_data(as_text=True), data
    published = client.post(
        f"{BATCHES}/{world.published_batch}/adjust",
        data={"allocation": "A1", "kind": "pin"},
        follow_redirects=True,
    )
    assert "Only the current draft can be adjusted." in published.get_data(as_text=True)
    assert (
        client.post(
            f"{BATCHES}/999999/adjust", data={"allocation": "A1", "kind": "pin"}
        ).status_code
        == 404
    )
    with web_db.session() as s:
        assert s.scalar(select(func.count()).select_from(PlanAdjustment)) == 0


def test_adjust_and_clear_need_post_and_the_csrf_token(
    csrf_app: Flask, world: World, web_db: TestDatabase
) -> None:
    from tests.web.conftest import sign_in

    client = csrf_app.test_client()
    sign_in(client, world.email("coordinator"))
    draft = world.draft_batch
    assert client.get(f"{BATCHES}/{draft}/adjust").status_code == 405
    assert client.get(f"{BATCHES}/{draft}/adjustments/clear").status_code == 405
    data = {"allocation": "A1", "kind": "pin"}
    assert client.post(f"{BATCHES}/{draft}/adjust", data=data).status_code == 400
    assert (
        client.post(f"{BATCHES}/{draft}/adjustments/clear", data={"adjustment": "1"}).status_code
        == 400
    )
    with web_db.session() as s:
        assert s.scalar(select(func.count()).select_from(PlanAdjustment)) == 0


def test_staff_may_not_adjust(signed_in: Any, world: World) -> None:
    response = signed_in("staff").post(
        f"{BATCHES}/{world.draft_batch}/adjust", data={"allocation": "A1", "kind": "pin"}
    )
    assert response.status_code == 403
