"""A small two-organization world for the web tests, built once and copied per test.

Organization ``crt`` (own, Tunis) and ``utss`` (other, Sfax), each with a site,
lots, open requests, two volunteers and one account per role; a published batch
of ``DAY`` routing both organizations' volunteers, solved by the real pipeline
(``jessr batch run --iterations``), and one draft batch of the next day.
:class:`World` names every account and the ids a URL needs, own and other.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from engine.models import Allocation, Batch, Job, SupplyLot, User, Volunteer
from engine.models import Request as RequestRow
from engine.users import hash_password
from tests.platform import factories as f
from tests.platform.conftest import TestDatabase

DAY = f.DAY
NEXT_DAY = DAY + timedelta(days=1)
PASSWORD = "password-123"
SFAX = (34.7406, 10.7603)
TUNIS = f.TUNIS


@dataclass
class World:
    """Accounts (email by role and side) and object ids (own = crt, other = utss)."""

    emails: dict[str, str] = field(default_factory=dict)  # "coordinator" / "coordinator-b"
    ids: dict[str, dict[str, int | str]] = field(default_factory=dict)  # ids["own"]["lot_id"]
    published_batch: int = 0
    draft_batch: int = 0
    batch_job: int = 0  # a finished background run (the draft's)

    def email(self, role: str, side: str = "own") -> str:
        return self.emails[role if side == "own" else f"{role}-b"]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> World:
        return cls(**json.loads(text))


def build_world(database: TestDatabase) -> World:
    """Fill ``database`` with the world; returns its :class:`World`."""
    world = World()
    password_hash = hash_password(PASSWORD)
    with database.session() as s:
        admin = f.make_user(s, "admin@example.org", "admin", None, password_hash=password_hash)
        world.emails["admin"] = admin.email
        for side, code, region, at in (
            ("own", "crt", "TN-11", TUNIS),
            ("other", "utss", "TN-61", SFAX),
        ):
            suffix = "" if side == "own" else "-b"
            org = f.make_org(s, code, region)
            site = f.make_site(s, org, "depot", at=at)
            lots = [f.make_lot(s, org, f"L{i}", 20, site=site) for i in (1, 2)]
            requests = [
                f.make_request(
                    s,
                    org,
                    f"R{i}",
                    at=(at[0] + 0.01 * i, at[1] + 0.01 * (i % 2)),
                    region=region,
                    quantity=2,
                    priority=1 + i % 5,
                    phone="+216 20 000 00" + str(i),
                    name=f"Family {code} {i}",
                )
                for i in range(1, 7)
            ]
            volunteers = [f.make_volunteer(s, org, f"V{i}", at=at) for i in (1, 2)]
            for role in ("coordinator", "staff"):
                f.make_user(
                    s, f"{role}{suffix}@{code}.example.org", role, org, password_hash=password_hash
                )
                world.emails[f"{role}{suffix}"] = f"{role}{suffix}@{code}.example.org"
            f.make_user(
                s,
                f"volunteer{suffix}@{code}.example.org",
                "volunteer",
                org,
                volunteer_id=volunteers[0].id,
                password_hash=password_hash,
            )
            world.emails[f"volunteer{suffix}"] = f"volunteer{suffix}@{code}.example.org"
            world.ids[side] = {
                "org": code,
                "org_id": org.id,
                "site_id": site.id,
                "lot_id": lots[0].id,
                "request_id": requests[0].id,
                "volunteer_id": volunteers[0].id,
            }
        s.commit()
    run = database.cli("batch", "run", "--date", DAY.isoformat(), "--iterations", "50", "--json")
    assert run.code == 0, run.err
    world.published_batch = json.loads(run.out)["id"]
    published = database.cli("batch", "publish", str(world.published_batch))
    assert published.code == 0, published.err
    draft = database.cli(
        "batch", "run", "--date", NEXT_DAY.isoformat(), "--iterations", "50", "--json"
    )
    assert draft.code == 0, draft.err
    world.draft_batch = json.loads(draft.out)["id"]
    with database.session() as s:
        for side in ("own", "other"):
            ids = world.ids[side]
            allocation = (
                s.execute(
                    select(Allocation)
                    .where(
                        Allocation.batch_id == world.published_batch,
                        Allocation.volunteer_id == ids["volunteer_id"],
                    )
                    .order_by(Allocation.id)
                )
                .scalars()
                .first()
            )
            assert allocation is not None, f"the {side} volunteer got no route"
            ids["allocation_id"] = allocation.id
            ids["allocation_ref"] = f"{world.published_batch}/{allocation.plan_id}"
            ids["user_id"] = s.execute(
                select(User.id).where(User.email == world.email("staff", side))
            ).scalar_one()
        job = Job(
            kind="batch",
            status="done",
            progress=1.0,
            message="done",
            params={"date": NEXT_DAY.isoformat(), "iterations": 50, "seed": 0, "workers": 1},
            result={"batch_id": world.draft_batch},
            batch_id=world.draft_batch,
            created_by=world.email("coordinator"),
        )
        s.add(job)
        s.flush()
        world.batch_job = job.id
        s.commit()
    return world


def check_world(database: TestDatabase, world: World) -> None:
    """Sanity: the world's ids exist (used by the world's own test)."""
    with database.session() as s:
        for side in ("own", "other"):
            ids = world.ids[side]
            assert s.get(SupplyLot, ids["lot_id"]) is not None
            assert s.get(RequestRow, ids["request_id"]) is not None
            assert s.get(Volunteer, ids["volunteer_id"]) is not None
        assert s.get(Batch, world.published_batch).status == "published"
        assert s.get(Batch, world.draft_batch).status == "draft"


def copy_world(template: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(template.read_bytes())
