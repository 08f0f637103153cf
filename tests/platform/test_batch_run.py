"""``jessr batch run|list|show|publish|replay``: drafts, publishing, replay."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select

from engine.checker import check_plan
from engine.models import Allocation, AuditEvent, Batch, Request, SupplyLot
from engine.scenario.reader import parse_scenario
from tests.platform.batch_days import (
    DAY,
    jessr_process,
    lot_invariant_problems,
    make_day,
    make_line_day,
    next_day,
)
from tests.platform.conftest import TestDatabase

RUN = ("batch", "run", "--date", DAY.isoformat(), "--iterations", "20", "--workers", "1")


def _run(database: TestDatabase, *extra: str) -> dict[str, object]:
    result = database.cli(*RUN, *extra, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_run_stores_a_draft_with_matching_hashes(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    out = _run(database)
    assert out["status"] == "draft"
    assert out["metrics"]["allocations"] == 6  # type: ignore[index]
    with database.session() as s:
        batch = s.get(Batch, out["id"])
        assert batch is not None and batch.status == "draft" and batch.iterations == 20
        assert batch.scenario_sha256 == hashlib.sha256(batch.scenario.encode()).hexdigest()
        assert batch.plan_sha256 == hashlib.sha256(batch.plan.encode()).hexdigest()
        plan = json.loads(batch.plan)
        rows = s.execute(select(Allocation).where(Allocation.batch_id == batch.id)).scalars()
        by_plan_id = {a.plan_id: a for a in rows}
        assert set(by_plan_id) == {a["id"] for a in plan["allocations"]}
        assert all(a.volunteer_id is not None for a in by_plan_id.values())
        assert (
            s.scalar(select(func.sum(SupplyLot.quantity_reserved))) == 0
        )  # a draft reserves nothing
        actions = s.execute(select(AuditEvent.action)).scalars().all()
        assert "batch.run" in actions


def test_show_plan_checks_against_show_scenario(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    batch_id = str(_run(database)["id"])
    scenario = database.cli("batch", "show", batch_id, "--scenario")
    plan = database.cli("batch", "show", batch_id, "--plan")
    assert scenario.code == plan.code == 0
    report = check_plan(parse_scenario(json.loads(scenario.out)), json.loads(plan.out))
    assert report.valid, report.violations
    with database.session() as s:
        batch = s.get(Batch, int(batch_id))
        assert batch is not None and plan.out == batch.plan  # the stored bytes
    summary = database.cli("batch", "show", batch_id)
    assert "for collection at the site" in summary.out and "draft" in summary.out
    listing = database.cli("batch", "list", "--json")
    assert [b["id"] for b in json.loads(listing.out)] == [int(batch_id)]


def test_a_newer_draft_supersedes_the_older(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    first = _run(database)["id"]
    second = _run(database, "--seed", "1")["id"]
    with database.session() as s:
        old, new = s.get(Batch, first), s.get(Batch, second)
        assert old is not None and new is not None
        assert (old.status, old.superseded_by_id, new.status) == ("superseded", new.id, "draft")
    stale = database.cli("batch", "publish", str(first))
    assert stale.code == 3 and "superseded" in stale.err


def test_publish_reserves_stock_and_a_later_batch_plans_what_is_left(
    database: TestDatabase,
) -> None:
    with database.session() as s:
        make_day(s, requests=6, lots=1)  # 12 units asked, 10 in stock
    batch_id = _run(database)["id"]
    published = database.cli("batch", "publish", str(batch_id))
    assert published.code == 0, published.err
    with database.session() as s:
        assert lot_invariant_problems(s) == []
        assert s.scalar(select(SupplyLot.quantity_reserved)) == 10
        statuses = s.execute(select(Request.status)).scalars().all()
        assert sorted(statuses).count("allocated") == 5
        assert s.get(Batch, batch_id).status == "published"  # type: ignore[union-attr]
    again = database.cli("batch", "publish", str(batch_id))
    assert again.code == 3
    afternoon = _run(database)
    assert afternoon["metrics"]["supplies"] == 0  # type: ignore[index]
    assert afternoon["metrics"]["requests"] == 1  # type: ignore[index]
    with database.session() as s:  # the published batch stays
        assert s.get(Batch, batch_id).status == "published"  # type: ignore[union-attr]


def test_publishing_a_stale_draft_exits_3_and_changes_nothing(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s, requests=4, lots=1)
    first = _run(database)["id"]
    # Another date's draft counts on the same lot and requests.
    other = database.cli(
        "batch", "run", "--date", next_day(), "--iterations", "20", "--workers", "1", "--json"
    )
    second = json.loads(other.out)["id"]
    assert database.cli("batch", "publish", str(first)).code == 0
    with database.session() as s:
        before_events = s.scalar(select(func.count()).select_from(AuditEvent))
        before = s.execute(select(SupplyLot.quantity_reserved)).scalars().all()
    stale = database.cli("batch", "publish", str(second))
    assert stale.code == 3
    assert "run the batch again" in stale.err
    with database.session() as s:
        assert s.execute(select(SupplyLot.quantity_reserved)).scalars().all() == before
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before_events
        assert s.get(Batch, second).status == "draft"  # type: ignore[union-attr]
        assert lot_invariant_problems(s) == []


def test_publish_fails_when_a_request_is_no_longer_open(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s, requests=2, lots=1)
    batch_id = _run(database)["id"]
    with database.session() as s:
        request = s.execute(select(Request).where(Request.ref == "R2")).scalar_one()
        request.status = "cancelled"
        s.commit()
    result = database.cli("batch", "publish", str(batch_id))
    assert result.code == 3 and "no longer open" in result.err
    with database.session() as s:
        assert s.scalar(select(func.sum(SupplyLot.quantity_reserved))) == 0


def test_unrouted_allocations_are_offered_for_collection(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s, requests=3, lots=1, volunteers=0)  # nobody drives today
    out = _run(database)
    metrics = out["metrics"]
    assert metrics["for_collection"] == 3 and metrics["routed"] == 0  # type: ignore[index]
    summary = database.cli("batch", "show", str(out["id"]))
    assert "for collection at the site (no volunteer can carry them): 3" in summary.out
    assert "no_volunteers: 3" in summary.out
    assert database.cli("batch", "publish", str(out["id"])).code == 0
    with database.session() as s:
        rows = s.execute(select(Allocation)).scalars().all()
        assert {(a.volunteer_id, a.unrouted_reason, a.status) for a in rows} == {
            (None, "no_volunteers", "planned")
        }
        assert s.scalar(select(SupplyLot.quantity_reserved)) == 6  # kept for the families


def test_replay_reproduces_the_plan_in_a_fresh_process(database: TestDatabase) -> None:
    with database.session() as s:
        make_line_day(s)
    batch_id = _run(database, "--seed", "7")["id"]
    replay = jessr_process(database, "batch", "replay", str(batch_id), "--workers", "1")
    out, err = replay.communicate(timeout=300)
    assert replay.returncode == 0, err
    assert "reproduces" in out


def test_replay_names_the_first_difference(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    batch_id = _run(database)["id"]
    with database.session() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None
        batch.plan = batch.plan.replace('"quantity": 2', '"quantity": 1', 1)
        s.commit()
    result = database.cli("batch", "replay", str(batch_id), "--workers", "1")
    assert result.code == 1
    assert "differs" in result.err and "quantity" in result.err


def test_bad_batch_ids_exit_2(database: TestDatabase) -> None:
    assert database.cli("batch", "show", "99").code == 2
    assert database.cli("batch", "publish", "x").code == 2


def test_unmigrated_database_exits_2(empty_database: TestDatabase) -> None:
    for args in (RUN, ("batch", "list"), ("export-scenario", "--date", "2026-11-28", "-o", "x")):
        result = empty_database.cli(*args)
        assert result.code == 2 and "jessr db upgrade" in result.err, result.err


def test_run_refuses_an_impossible_date(database: TestDatabase) -> None:
    result = database.cli("batch", "run", "--date", "2026-02-30")
    assert result.code == 2 and "YYYY-MM-DD" in result.err


def test_a_time_limited_batch_records_its_searches_and_replays_them(
    database: TestDatabase,
) -> None:
    # The day of the iteration-bounded replay test, solved against the clock:
    # the stored search record makes the replay repeat the same work.
    with database.session() as s:
        make_line_day(s)
    result = database.cli(
        "batch", "run", "--date", DAY.isoformat(), "--time-limit", "3", "--workers", "1", "--json"
    )
    assert result.code == 0, result.err
    batch_id = json.loads(result.out)["id"]
    with database.session() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None
        assert (batch.time_limit, batch.iterations) == (3.0, None)
        assert batch.params is not None and batch.params["time_limit"] == 3.0
        assert batch.search_record is not None and batch.search_record["version"] == 1
    assert "searches recorded" in database.cli("batch", "show", str(batch_id)).out
    replay = jessr_process(database, "batch", "replay", str(batch_id), "--workers", "1")
    out, err = replay.communicate(timeout=300)
    assert replay.returncode == 0, err
    assert "reproduces" in out
