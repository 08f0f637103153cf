"""The day's snapshot: what is open on a date, as an exchange-format :class:`Scenario`.

:func:`snapshot` reads the database and builds the scenario ``jessr batch run``
solves and ``jessr export-scenario`` writes:

* supplies: every lot with unreserved stock (``received - reserved - delivered >
  0``), received on or before the date (``received_on`` NULL counts as received)
  and not expired (``expires`` NULL or on/after the date); the quantity is the
  unreserved stock, ``expires`` and the donor's ``regions`` are carried, the
  place is the lot's site or the lot's own coordinates and region;
* requests: every ``open`` request filed on or before the date (a request
  allocated by a published batch is not open, so a later batch of the same date
  plans only what is still open);
* volunteers: every active volunteer whose ``days`` is NULL (every day) or lists
  the date (ISO) or its weekday (``mon`` … ``sun``), unless it lists the date as
  excluded (``!YYYY-MM-DD``);
* categories: the database's catalogue; policy: the exchange format's defaults;
* exclusions and pins: the coordinators' active adjustments of the date
  (:func:`engine.adjustments.scenario_with_adjustments`; a pin that no longer
  fits is left out and listed in :attr:`Snapshot.skipped`).

Ids are ``ORG/REF`` (organization code, record ref); each list is sorted by id,
so the same database state gives the same scenario, byte for byte.
:func:`scenario_text` is those bytes (the text a batch stores and hashes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.adjustments import Skipped, scenario_with_adjustments
from engine.models import Category as CategoryRow
from engine.models import Organization, Request, Site, SupplyLot, Volunteer
from engine.scenario.model import DAY_END, DAY_START, Category, Policy, Scenario
from engine.scenario.model import Request as ScenarioRequest
from engine.scenario.model import Supply as ScenarioSupply
from engine.scenario.model import Volunteer as ScenarioVolunteer
from engine.scenario.writer import scenario_to_dict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXCLUDE = "!"  # prefix of a date the volunteer is not available on


@dataclass(frozen=True)
class Snapshot:
    """A scenario and, for each of its ids, the database row id it came from."""

    scenario: Scenario
    lot_ids: dict[str, int] = field(default_factory=dict)  # "ORG/REF" -> supply_lots.id
    request_ids: dict[str, int] = field(default_factory=dict)  # -> requests.id
    volunteer_ids: dict[str, int] = field(default_factory=dict)  # -> volunteers.id
    skipped: tuple[Skipped, ...] = ()  # active pins the scenario could not hold


def _minutes(value: time | None, default: int) -> int:
    return default if value is None else value.hour * 60 + value.minute


def available_on(days: list[str] | None, day: date) -> bool:
    """True when a volunteer's ``days`` (NULL: every day) include ``day``.

    An entry ``!YYYY-MM-DD`` excludes that date whatever else matches (a volunteer
    who usually drives on Mondays says they cannot this Monday; written by
    ``engine.availability``).
    """
    if days is None:
        return True
    entries = {str(d).strip().lower() for d in days}
    if EXCLUDE + day.isoformat() in entries:
        return False
    return bool(entries & {day.isoformat(), WEEKDAYS[day.weekday()]})


def snapshot(session: Session, day: date) -> Snapshot:
    """What is open on ``day`` (see the module docstring), read in ``session``."""
    categories = {
        row.id: Category(
            id=row.id,
            unit=row.unit,
            weight_kg=row.weight_kg,
            perishable=row.perishable,
            names=dict(sorted((row.names or {}).items())),
        )
        for row in session.execute(select(CategoryRow).order_by(CategoryRow.id)).scalars()
    }

    lot = SupplyLot
    stock = lot.quantity_received - lot.quantity_reserved - lot.quantity_delivered
    lot_rows = session.execute(
        select(
            lot.id,
            Organization.code,
            lot.ref,
            lot.category_id,
            stock.label("stock"),
            lot.lat,
            lot.lon,
            lot.region_code,
            Site.lat.label("site_lat"),
            Site.lon.label("site_lon"),
            Site.region_code.label("site_region"),
            lot.expires,
            lot.regions,
        )
        .join(Organization, Organization.id == lot.org_id)
        .outerjoin(Site, Site.id == lot.site_id)
        .where(
            stock > 0,
            or_(lot.expires.is_(None), lot.expires >= day),
            or_(lot.received_on.is_(None), lot.received_on <= day),
        )
    ).all()
    supplies: list[ScenarioSupply] = []
    lot_ids: dict[str, int] = {}
    for r in lot_rows:
        sid = f"{r.code}/{r.ref}"
        at_site = r.site_lat is not None
        supplies.append(
            ScenarioSupply(
                id=sid,
                category=r.category_id,
                quantity=int(r.stock),
                lat=r.site_lat if at_site else r.lat,
                lon=r.site_lon if at_site else r.lon,
                region=r.site_region if at_site else r.region_code,
                org=r.code,
                expires=r.expires,
                regions=frozenset(r.regions) if r.regions is not None else None,
            )
        )
        lot_ids[sid] = r.id
    supplies.sort(key=lambda s: s.id)

    req = Request
    request_rows = session.execute(
        select(
            req.id,
            Organization.code,
            req.ref,
            req.category_id,
            req.quantity,
            req.lat,
            req.lon,
            req.region_code,
            req.priority,
            req.filed,
            req.window_start,
            req.window_end,
        )
        .join(Organization, Organization.id == req.org_id)
        .where(and_(req.status == "open", req.filed <= day))
    ).all()
    requests: list[ScenarioRequest] = []
    request_ids: dict[str, int] = {}
    for r in request_rows:
        rid = f"{r.code}/{r.ref}"
        end = _minutes(r.window_end, DAY_END)
        requests.append(
            ScenarioRequest(
                id=rid,
                category=r.category_id,
                quantity=r.quantity,
                lat=r.lat,
                lon=r.lon,
                region=r.region_code,
                priority=r.priority,
                filed=r.filed,
                # 00:00 as an end means the end of the day (a window cannot end before it starts).
                window=(_minutes(r.window_start, DAY_START), end or DAY_END),
            )
        )
        request_ids[rid] = r.id
    requests.sort(key=lambda r: r.id)

    vol = Volunteer
    volunteer_rows = session.execute(
        select(
            vol.id,
            Organization.code,
            vol.ref,
            vol.home_lat,
            vol.home_lon,
            vol.capacity_kg,
            vol.shift_start,
            vol.shift_end,
            vol.speed_kmh,
            vol.days,
        )
        .join(Organization, Organization.id == vol.org_id)
        .where(vol.active.is_(True))
    ).all()
    volunteers: list[ScenarioVolunteer] = []
    volunteer_ids: dict[str, int] = {}
    for r in volunteer_rows:
        if not available_on(r.days, day):
            continue
        vid = f"{r.code}/{r.ref}"
        volunteers.append(
            ScenarioVolunteer(
                id=vid,
                lat=r.home_lat,
                lon=r.home_lon,
                capacity_kg=r.capacity_kg,
                shift=(_minutes(r.shift_start, 0), _minutes(r.shift_end, DAY_END) or DAY_END),
                speed_kmh=r.speed_kmh if r.speed_kmh is not None else 30.0,
            )
        )
        volunteer_ids[vid] = r.id
    volunteers.sort(key=lambda v: v.id)

    scenario = Scenario(
        date=day,
        categories=categories,
        supplies=tuple(supplies),
        requests=tuple(requests),
        volunteers=tuple(volunteers),
        policy=Policy(),
    )
    scenario, skipped = scenario_with_adjustments(session, scenario, lot_ids, request_ids)
    return Snapshot(scenario, lot_ids, request_ids, volunteer_ids, skipped)


def document_text(doc: object) -> str:
    """The stored text of an exchange-format document (what ``write_json_atomic`` writes)."""
    return json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def scenario_text(scenario: Scenario) -> str:
    """The scenario's exchange-format text, as a batch stores and hashes it."""
    return document_text(scenario_to_dict(scenario))
