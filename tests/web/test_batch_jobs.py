"""Running the day's batch from the web: a background job, its page and status,
one run per date, bad input, CSRF and POST only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from engine.checker import check_plan
from engine.db.base import utcnow
from engine.models import AuditEvent, Batch, Job
from engine.scenario.reader import parse_scenario
from tests.platform.conftest import TestDatabase
from tests.web.batch_helpers import BATCHES, add_requests, job_id_of, wait_for_jobs
from tests.web.world import NEXT_DAY, World
from web.coordinator.batch.runner import launch

FORM = {"date": NEXT_DAY.isoformat(), "budget": "iterations", "iterations": "30", "seed": "0"}


def test_a_run_goes_to_a_job_page_and_ends_with_a_valid_draft(
    app: Flask, signed_in: Any, web_db: TestDatabase, world: World
) -> None:
    add_requests(web_db)
    client = signed_in("coordinator")
    response = client.post(f"{BATCHES}/run", data=FORM)
    assert response.status_code == 303
    job_id = job_id_of(response.headers["Location"])
    page = client.get(f"{BATCHES}/jobs/{job_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<progress id="job-progress" max="1"' in html
    assert "js/batch-job.js" in html and f"/jobs/{job_id}.json" in html
    assert "Refresh this page" in html  # the way forward without scripts
    wait_for_jobs(app)

    status = client.get(f"{BATCHES}/jobs/{job_id}.json")
    assert status.status_code == 200 and status.mimetype == "application/json"
    body = status.get_json()
    assert (body["status"], body["progress"], body["stage"], body["error"]) == (
        "done",
        1.0,
        "done",
        None,
    )
    assert body["date"] == NEXT_DAY.isoformat() and body["stage_label"] == "Done"
    assert body["review_url"] == f"{BATCHES}/{body['batch_id']}"
    with web_db.session() as s:
        batch = s.get(Batch, body["batch_id"])
        assert batch is not None and batch.status == "draft"
        assert batch.created_by == world.email("coordinator")
        report = check_plan(parse_scenario(json.loads(batch.scenario)), json.loads(batch.plan))
        assert report.valid, report.violations
        assert batch.metrics["allocations"] > 0  # type: ignore[index]
        old = s.get(Batch, world.draft_batch)
        assert old is not None and old.status == "superseded"
        started = s.execute(select(AuditEvent).where(AuditEvent.action == "job.start")).scalar_one()
        assert started.actor == world.email("coordinator")
    done = client.get(f"{BATCHES}/jobs/{job_id}").get_data(as_text=True)
    assert "Review the draft" in done and f'href="{BATCHES}/{body["batch_id"]}"' in done


def test_a_second_run_of_the_same_date_is_told_so(
    app: Flask, signed_in: Any, web_db: TestDatabase
) -> None:
    with web_db.session() as s:  # a run of that date is going on in another worker
        running = Job(
            kind="batch",
            status="running",
            progress=0.3,
            message="routing",
            params={"date": NEXT_DAY.isoformat(), "iterations": 30, "seed": 0},
            created_by="someone@crt.example.org",
            heartbeat_at=utcnow(),
            lock_key=f"batch:{NEXT_DAY.isoformat()}",
        )
        s.add(running)
        s.commit()
        running_id = running.id
        jobs_before = s.scalar(select(func.count()).select_from(Job))
    client = signed_in("coordinator")
    response = client.post(f"{BATCHES}/run", data=FORM, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"{BATCHES}/jobs/{running_id}"
    html = response.get_data(as_text=True)
    assert f"already running (job {running_id})" in html
    assert "Planning the volunteers&#39; routes" in html
    with web_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == jobs_before
    assert app.extensions.get("jessr.batch_job_threads", []) == []


def test_a_stale_run_does_not_block_the_date(
    app: Flask, signed_in: Any, web_db: TestDatabase
) -> None:
    with web_db.session() as s:
        dead = Job(
            kind="batch",
            status="running",
            progress=0.3,
            message="routing",
            params={"date": NEXT_DAY.isoformat()},
            created_by="someone@crt.example.org",
            heartbeat_at=utcnow() - timedelta(hours=1),
            lock_key=f"batch:{NEXT_DAY.isoformat()}",
        )
        s.add(dead)
        s.commit()
        dead_id = dead.id
    client = signed_in("coordinator")
    seen = client.get(f"{BATCHES}/jobs/{dead_id}.json").get_json()
    assert seen["status"] == "failed" and "stopped" in seen["error"]
    response = client.post(f"{BATCHES}/run", data=FORM)
    assert response.status_code == 303 and job_id_of(response.headers["Location"]) != dead_id
    wait_for_jobs(app)
    with web_db.session() as s:
        row = s.get(Job, dead_id)
        assert row is not None and row.status == "failed" and row.lock_key is None


def _queued(database: TestDatabase, **params: Any) -> int:
    """A queued batch job of the next day with these parameters (as if just asked)."""
    with database.session() as s:
        job = Job(
            kind="batch",
            status="queued",
            progress=0.0,
            message="queued",
            params={"date": NEXT_DAY.isoformat(), "seed": 0, "workers": 1, **params},
            created_by="coordinator@crt.example.org",
            heartbeat_at=utcnow(),
            lock_key=f"batch:{NEXT_DAY.isoformat()}",
        )
        s.add(job)
        s.commit()
        return job.id


def test_a_failed_run_shows_its_one_line_reason(
    app: Flask, signed_in: Any, web_db: TestDatabase
) -> None:
    job_id = _queued(web_db, iterations=0)  # refused by the run itself, in its process
    launch(app, job_id)
    wait_for_jobs(app)
    client = signed_in("admin")
    body = client.get(f"{BATCHES}/jobs/{job_id}.json").get_json()
    assert body["status"] == "failed" and body["review_url"] is None
    assert body["error"] == "iterations: expected 1 to 1000000"
    html = client.get(f"{BATCHES}/jobs/{job_id}").get_data(as_text=True)
    assert "The run failed" in html and "iterations: expected 1 to 1000000" in html
    assert "Traceback" not in html
    with web_db.session() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.lock_key is None  # the date is free again


def test_a_run_whose_process_dies_is_failed(
    app: Flask, signed_in: Any, web_db: TestDatabase, monkeypatch: Any
) -> None:
    monkeypatch.setattr("web.coordinator.batch.runner.sys.executable", "/bin/false")
    job_id = _queued(web_db, iterations=30)
    launch(app, job_id)
    wait_for_jobs(app)
    body = signed_in("coordinator").get(f"{BATCHES}/jobs/{job_id}.json").get_json()
    assert body["status"] == "failed"
    assert body["error"] == "the run stopped unexpectedly (exit status 1)"
    monkeypatch.setattr("web.coordinator.batch.runner.sys.executable", "/no/such/python")
    other = _queued(web_db, iterations=30)
    launch(app, other)
    wait_for_jobs(app)
    body = signed_in("coordinator").get(f"{BATCHES}/jobs/{other}.json").get_json()
    assert body["status"] == "failed" and body["error"].startswith("the run could not start")


def test_bad_input_is_named_and_starts_nothing(
    app: Flask, signed_in: Any, web_db: TestDatabase
) -> None:
    client = signed_in("coordinator")
    for data, message in (
        ({**FORM, "date": ""}, "Give the date to plan."),
        ({**FORM, "date": "28/11/2026"}, "Not a valid date value."),
        ({**FORM, "iterations": "0"}, "Between 1 and 1000000 iterations."),
        ({**FORM, "iterations": ""}, "Give the iterations."),
        ({**FORM, "budget": "time", "time_limit": "99999"}, "Between 1 and 3600 seconds."),
        ({**FORM, "seed": "-1"}, "A whole number from 0."),
    ):
        response = client.post(f"{BATCHES}/run", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), message
    with web_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 1  # the world's only
    assert app.extensions.get("jessr.batch_job_threads", []) == []


def test_errors_are_translated(signed_in: Any) -> None:
    client = signed_in("coordinator")
    response = client.post(f"{BATCHES}/run?lang=fr", data={**FORM, "iterations": "0"})
    assert "Entre 1 et 1000000 itérations." in response.get_data(as_text=True)


def test_run_is_post_only_and_needs_the_csrf_token(
    csrf_app: Flask, world: World, web_db: TestDatabase
) -> None:
    from tests.web.conftest import sign_in

    client = csrf_app.test_client()
    sign_in(client, world.email("coordinator"))
    assert client.get(f"{BATCHES}/run").status_code == 405
    assert client.post(f"{BATCHES}/run", data=FORM).status_code == 400
    with web_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 1
    page = client.get(f"{BATCHES}/").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_staff_and_volunteers_may_not_run_or_watch(signed_in: Any, world: World) -> None:
    for role in ("staff", "volunteer"):
        client = signed_in(role)
        assert client.post(f"{BATCHES}/run", data=FORM).status_code == 403
        assert client.get(f"{BATCHES}/jobs/{world.batch_job}.json").status_code == 403


def test_a_job_that_does_not_exist_is_404(signed_in: Any) -> None:
    assert signed_in("coordinator").get(f"{BATCHES}/jobs/999999.json").status_code == 404


def test_run_review_and_publish_on_postgresql(pg_world: Any) -> None:
    from tests.web.conftest import make_app, sign_in

    database, world = pg_world
    add_requests(database)
    app = make_app(database)
    try:
        client = app.test_client()
        sign_in(client, world.email("coordinator"))
        response = client.post(f"{BATCHES}/run", data=FORM)
        job_id = job_id_of(response.headers["Location"])
        wait_for_jobs(app)
        body = client.get(f"{BATCHES}/jobs/{job_id}.json").get_json()
        assert body["status"] == "done", body
        review = client.get(body["review_url"])
        assert review.status_code == 200 and "Publish this draft" in review.get_data(as_text=True)
        published = client.post(f"{body['review_url']}/publish")
        assert published.status_code == 303
        with database.session() as s:
            batch = s.get(Batch, body["batch_id"])
            assert batch is not None and batch.status == "published"
    finally:
        app.extensions["jessr.database"].close()
