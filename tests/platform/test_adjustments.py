"""A coordinator's adjustments (``engine.adjustments``): exclude or pin an allocation
of a draft; ``jessr batch run`` (the web job's code path too) honours them, the
stored scenario holds them, ``jessr check`` accepts the plan and ``jessr batch
replay`` reproduces it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from engine.access import Actor
from engine.adjustments import active_adjustments, adjust, clear_adjustment
from engine.checker import check_plan
from engine.errors import ConflictError, Forbidden, InputError
from engine.models import Allocation, AuditEvent, Batch, Organization, PlanAdjustment
from engine.models import Request as RequestRow
from engine.scenario.reader import parse_scenario
from tests.platform import factories as f
from tests.platform.batch_days import DAY, make_day
from tests.platform.conftest import TestDatabase

COORDINATOR = Actor("coordinator@crt.example.org", "coordinator", user_id=1, org_id=1)
RUN = ("batch", "run", "--date", DAY.isoformat(), "--iterations", "30", "--workers", "1")


def _run(database: TestDatabase) -> int:
    result = database.cli(*RUN, "--json")
    assert result.code == 0, result.err
    return int(json.loads(result.out)["id"])


def _pairs(database: TestDatabase, batch_id: int) -> list[tuple[str, str, int]]:
    with database.session() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None
        return [
            (a["supply"], a["request"], a["quantity"])
            for a in json.loads(batch.plan)["allocations"]
        ]


def _adjust(database: TestDatabase, batch_id: int, plan_id: str, kind: str) -> tuple[Any, bool]:
    with database.session() as s:
        done = adjust(s, batch_id, plan_id, kind, COORDINATOR)
        s.commit()
        return done


def _plan_id(database: TestDatabase, batch_id: int, request: str) -> str:
    plan = _pairs(database, batch_id)
    index = next(i for i, (_, r, _) in enumerate(plan) if r == request)
    return f"A{index + 1}"


def _checked_and_replayed(database: TestDatabase, batch_id: int) -> dict[str, Any]:
    """The batch's plan is valid for its stored scenario and a replay reproduces it."""
    scenario = database.cli("batch", "show", str(batch_id), "--scenario")
    plan = database.cli("batch", "show", str(batch_id), "--plan")
    report = check_plan(parse_scenario(json.loads(scenario.out)), json.loads(plan.out))
    assert report.valid, report.violations
    replay = database.cli("batch", "replay", str(batch_id), "--workers", "1")
    assert replay.code == 0, replay.err
    return json.loads(scenario.out)


def test_an_excluded_pair_is_absent_after_a_rerun(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)  # two lots of 10 at one depot, six requests of 2
    first = _run(database)
    lot, request, _ = _pairs(database, first)[0]
    adjustment, new = _adjust(database, first, "A1", "exclude")
    assert new and adjustment.kind == "exclude" and adjustment.quantity is None
    second = _run(database)
    pairs = _pairs(database, second)
    assert (lot, request) not in {(s, r) for s, r, _ in pairs}
    # Only that pair: the other lot at the same depot still serves the request.
    assert sum(q for _, r, q in pairs if r == request) == 2
    scenario = _checked_and_replayed(database, second)
    assert scenario["exclusions"] == [{"supply": lot, "request": request}]


def test_a_pinned_allocation_is_kept_after_a_rerun(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s, requests=6, lots=1)  # 12 asked, 10 in stock
    first = _run(database)
    kept = _pairs(database, first)[0]
    _adjust(database, first, "A1", "pin")
    with database.session() as s:  # five urgent requests arrive and want the whole lot
        org = s.execute(select(Organization)).scalar_one()
        for i in range(5):
            f.make_request(
                s,
                org,
                f"U{i}",
                at=(36.80, 10.19 + 0.005 * i),
                region="TN-11",
                quantity=2,
                priority=5,
            )
        s.commit()
    second = _run(database)
    pairs = _pairs(database, second)
    assert pairs[0] == kept  # A1 again: same lot, request and quantity
    scenario = _checked_and_replayed(database, second)
    assert scenario["pins"] == [{"supply": kept[0], "request": kept[1], "quantity": kept[2]}]
    with database.session() as s:  # control: without the pin the urgent requests take it all
        row = s.execute(select(PlanAdjustment)).scalar_one()
        clear_adjustment(s, row.id, COORDINATOR)
        s.commit()
    third = _run(database)
    assert kept[1] not in {r for _, r, _ in _pairs(database, third)}
    # The new draft is publishable as any other.
    assert database.cli("batch", "publish", str(second)).code == 3  # superseded by the third
    assert database.cli("batch", "publish", str(third)).code == 0


def test_a_pin_that_no_longer_fits_is_left_out_and_reported(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s, requests=3, lots=1)
    first = _run(database)
    lot, request, _ = _pairs(database, first)[0]
    _adjust(database, first, "A1", "pin")
    with database.session() as s:  # the household's request is cancelled
        ref = request.split("/")[1]
        row = s.execute(select(RequestRow).where(RequestRow.ref == ref)).scalar_one()
        row.status = "cancelled"
        s.commit()
    result = database.cli(*RUN)
    assert result.code == 0, result.err
    assert f"the pin of {lot} to {request}" in result.err and "no longer open" in result.err
    second = int(result.out.split()[1])
    scenario = _checked_and_replayed(database, second)
    assert "pins" not in scenario


def test_export_scenario_carries_the_adjustments(database: TestDatabase, tmp_path: Any) -> None:
    with database.session() as s:
        make_day(s)
    first = _run(database)
    _adjust(database, first, "A1", "exclude")
    out = tmp_path / "day.json"
    assert database.cli("export-scenario", "--date", DAY.isoformat(), "-o", str(out)).code == 0
    assert len(json.loads(out.read_text())["exclusions"]) == 1


def test_adjustments_replace_each_other_and_repeat_safely(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    batch_id = _run(database)
    first, new = _adjust(database, batch_id, "A2", "pin")
    assert new and first.quantity == 2
    again, new_again = _adjust(database, batch_id, "A2", "pin")
    assert (again.id, new_again) == (first.id, False)  # a second click pins nothing more
    excluded, _ = _adjust(database, batch_id, "A2", "exclude")  # the last decision holds
    with database.session() as s:
        active = active_adjustments(s, DAY, COORDINATOR)
        assert [(a.id, a.kind) for a in active] == [(excluded.id, "exclude")]
        assert s.get(PlanAdjustment, first.id).cleared_at is not None  # type: ignore[union-attr]
        actions = s.execute(select(AuditEvent.action)).scalars().all()
    assert actions.count("plan_adjustment.pin") == 1
    assert actions.count("plan_adjustment.exclude") == 1
    assert actions.count("plan_adjustment.clear") == 1


def test_the_audit_event_names_the_pair(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    batch_id = _run(database)
    lot, request, _ = _pairs(database, batch_id)[0]
    adjustment, _ = _adjust(database, batch_id, "A1", "exclude")
    with database.session() as s:
        event = s.execute(
            select(AuditEvent).where(AuditEvent.action == "plan_adjustment.exclude")
        ).scalar_one()
    assert event.actor == COORDINATOR.label and event.entity_id == str(adjustment.id)
    after = json.loads(event.after or "{}")
    assert (after["lot"], after["request"], after["batch"], after["allocation"]) == (
        lot,
        request,
        batch_id,
        "A1",
    )


def test_only_a_draft_is_adjusted_and_only_by_a_coordinator(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    batch_id = _run(database)
    staff = Actor("staff@crt.example.org", "staff", user_id=2, org_id=1)
    with database.session() as s:
        with pytest.raises(Forbidden):
            adjust(s, batch_id, "A1", "pin", staff)
        with pytest.raises(InputError, match="no allocation"):
            adjust(s, batch_id, "A999", "pin", COORDINATOR)
        with pytest.raises(InputError, match="kind"):
            adjust(s, batch_id, "A1", "drop", COORDINATOR)
    assert database.cli("batch", "publish", str(batch_id)).code == 0
    with database.session() as s, pytest.raises(ConflictError, match="is published"):
        adjust(s, batch_id, "A1", "pin", COORDINATOR)


def test_clearing_twice_is_refused(database: TestDatabase) -> None:
    with database.session() as s:
        make_day(s)
    batch_id = _run(database)
    adjustment, _ = _adjust(database, batch_id, "A1", "exclude")
    with database.session() as s:
        clear_adjustment(s, adjustment.id, COORDINATOR)
        s.commit()
    with database.session() as s, pytest.raises(ConflictError, match="already cleared"):
        clear_adjustment(s, adjustment.id, COORDINATOR)
    with database.session() as s:
        assert active_adjustments(s, DAY, COORDINATOR) == []
        assert s.scalar(select(Allocation.id).where(Allocation.batch_id == batch_id))
