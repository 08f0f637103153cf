"""What a coordinator sees of a batch: the history, the review of a draft (or of any
batch), a volunteer's route sheet, and the decision to publish.

Every figure is computed here from the batch's stored documents — the plan
(exchange format) and the scenario it was solved from — and not in a view, so
the review shows what the plan says, by the format's own definitions:

* a request's value per unit ``w(r) = priority_weights[priority] × (1 + 0.01 ×
  min(age_days, 30))``; the **need** of a group of requests is Σ w(r) × quantity,
  the **allocated** value Σ w × units of their allocations, the **delivered**
  value the part of it a route carries (picked up and delivered);
* the unmet list is the plan's ``unmet`` (missing units and reason), the
  allocations for collection its ``unrouted`` list (allocation and reason).

Batches are national (the coordinator role runs the national batch), so the
review is open to coordinators and admins; a route sheet names a volunteer and
is open to the coordinators of the volunteer's organization only (another
organization's volunteer is *not found*). No household data is read here: the
scenario holds none (ids are ``ORG/REF``), and the route sheet shows request
refs and regions, never a phone, a name or an address.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import batch as batches
from engine.access import Actor, require_org, require_role
from engine.adjustments import AdjustmentView, active_adjustments
from engine.db.base import as_utc
from engine.errors import NotFound
from engine.models import Batch, Organization, Site, SupplyLot, Volunteer
from engine.scenario.model import Scenario
from engine.scenario.reader import parse_scenario

PAGE_SIZE = 100
HISTORY_PAGE_SIZE = 50
MAX_AGE_BONUS_DAYS = 30
ROUTE_COLOURS = (
    "#0b5d4b",
    "#1d4ed8",
    "#8a3b00",
    "#6b21a8",
    "#a4161a",
    "#0f766e",
    "#854d0e",
    "#be185d",
    "#334155",
    "#15803d",
)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list."""

    rows: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _page(rows: Sequence[T], page: int, size: int) -> Page[T]:
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    return Page(list(rows[(page - 1) * size : page * size]), len(rows), page, size)


# -- history


@dataclass(frozen=True)
class BatchRow:
    """A batch in the history: what it is and its key figures."""

    id: int
    date: date
    status: str
    metrics: dict[str, Any]
    created_by: str
    created_at: datetime
    published_at: datetime | None
    superseded_by: int | None

    def metric(self, name: str) -> Any:
        return self.metrics.get(name, 0)


def history(session: Session, actor: Actor, page: int = 1) -> Page[BatchRow]:
    """Batches by date (newest first, then newest run first), one page."""
    require_role(actor, "coordinator")
    total = session.scalar(select(func.count()).select_from(Batch)) or 0
    pages = max(1, -(-total // HISTORY_PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(
            Batch.id,
            Batch.date,
            Batch.status,
            Batch.metrics,
            Batch.created_by,
            Batch.created_at,
            Batch.published_at,
            Batch.superseded_by_id,
        )
        .order_by(Batch.date.desc(), Batch.id.desc())
        .limit(HISTORY_PAGE_SIZE)
        .offset((page - 1) * HISTORY_PAGE_SIZE)
    )
    return Page(
        [
            BatchRow(
                r.id,
                r.date,
                r.status,
                dict(r.metrics or {}),
                r.created_by,
                r.created_at,
                r.published_at,
                r.superseded_by_id,
            )
            for r in rows
        ],
        total,
        page,
        HISTORY_PAGE_SIZE,
    )


# -- the stored documents


_CACHE: OrderedDict[str, Scenario] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 2  # a national day's scenario is large; the last two reviewed are enough


def stored_scenario(batch: Batch) -> Scenario:
    """The batch's scenario, parsed (kept for the last few batches: it never changes,
    its hash names it)."""
    key = batch.scenario_sha256
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    scenario = parse_scenario(json.loads(batch.scenario), source=f"batch {batch.id} scenario")
    with _CACHE_LOCK:
        _CACHE[key] = scenario
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return scenario


def request_value(scenario: Scenario, priority: int, filed: date) -> float:
    """``w(r)``, the format's value of one unit for a request."""
    age = min(max((scenario.date - filed).days, 0), MAX_AGE_BONUS_DAYS)
    return scenario.policy.priority_weights[priority] * (1.0 + 0.01 * age)


def _batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"no batch {batch_id}")
    return batch


# -- the review


@dataclass(frozen=True)
class Filters:
    """The review's list filters (GET query); ``None``: any."""

    region: str | None = None
    category: str | None = None
    priority: int | None = None
    reason: str | None = None
    unmet_page: int = 1
    allocation_page: int = 1

    def admits(self, region: str, category: str, priority: int, reason: str | None) -> bool:
        return (
            (self.region is None or region == self.region)
            and (self.category is None or category == self.category)
            and (self.priority is None or priority == self.priority)
            and (self.reason is None or reason == self.reason)
        )


@dataclass(frozen=True)
class Bar:
    """Value of a group of requests: needed, allocated, delivered."""

    key: str
    need: float
    allocated: float
    delivered: float

    @property
    def delivered_share(self) -> float:
        return self.delivered / self.need if self.need > 0 else 0.0

    @property
    def allocated_share(self) -> float:
        return self.allocated / self.need if self.need > 0 else 0.0


@dataclass(frozen=True)
class UnmetRow:
    request: str
    region: str
    category: str
    priority: int
    quantity: int  # missing units
    reason: str


@dataclass(frozen=True)
class AllocationRow:
    id: str  # the plan's allocation id
    supply: str
    request: str
    region: str
    category: str
    priority: int
    quantity: int
    volunteer: str | None  # the route carrying it, or None (for collection)
    reason: str | None  # why no route carries it
    pinned: bool


@dataclass(frozen=True)
class RouteStop:
    order: int
    lat: float
    lon: float
    kind: str  # "pickup", "delivery" or "both"
    arrival: str  # HH:MM, the plan's


@dataclass(frozen=True)
class RouteRow:
    volunteer: str  # ORG/REF
    volunteer_id: int | None
    colour: str
    home: tuple[float, float]
    stops: list[RouteStop]
    deliveries: int
    distance_km: float
    sheet: bool  # the actor may open its route sheet


@dataclass
class Review:
    """Everything the review page shows of one batch."""

    id: int
    date: date
    status: str
    created_by: str
    created_at: datetime
    published_at: datetime | None
    superseded_by: int | None
    seed: int
    iterations: int | None
    time_limit: float | None
    metrics: dict[str, Any]
    totals: Bar
    by_priority: list[Bar]
    by_region: list[Bar]
    unmet: Page[UnmetRow]
    collection: list[AllocationRow]
    allocations: Page[AllocationRow]
    routes: list[RouteRow]
    options: dict[str, list[Any]]
    exclusions: set[tuple[str, str]] = field(default_factory=set)
    pins: list[tuple[str, str, int]] = field(default_factory=list)
    adjustments: list[AdjustmentView] = field(default_factory=list)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    def applied(self, adjustment: AdjustmentView) -> bool:
        """Whether this batch's scenario holds ``adjustment``."""
        pair = (adjustment.lot, adjustment.request)
        if adjustment.kind == "exclude":
            return pair in self.exclusions
        return (*pair, adjustment.quantity) in self.pins

    def adjustment_state(self, adjustment: AdjustmentView) -> str:
        """``applied`` (this batch honours it), ``pending`` (made after this batch: the
        next run will) or ``skipped`` (this run could not: its lot or request changed)."""
        if self.applied(adjustment):
            return "applied"
        if as_utc(adjustment.created_at) >= as_utc(self.created_at):
            return "pending"
        return "skipped"


def _volunteer_rows(session: Session, refs: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``ORG/REF`` of volunteers → (volunteers.id, org id)."""
    wanted = {tuple(r.split("/", 1)) for r in refs if "/" in r}
    if not wanted:
        return {}
    codes = sorted({c for c, _ in wanted})
    rows = session.execute(
        select(Volunteer.id, Volunteer.org_id, Organization.code, Volunteer.ref)
        .join(Organization, Organization.id == Volunteer.org_id)
        .where(Organization.code.in_(codes))
    )
    return {f"{c}/{ref}": (vid, org) for vid, org, c, ref in rows if (c, ref) in wanted}


def review(session: Session, batch_id: int, actor: Actor, filters: Filters | None = None) -> Review:
    """The review of batch ``batch_id`` (any status), its lists filtered by ``filters``."""
    require_role(actor, "coordinator")
    filters = filters or Filters()
    batch = _batch(session, batch_id)
    scenario = stored_scenario(batch)
    plan = json.loads(batch.plan)
    requests = {r.id: r for r in scenario.requests}
    supplies = {s.id: s for s in scenario.supplies}
    value = {r.id: request_value(scenario, r.priority, r.filed) for r in scenario.requests}

    carried: dict[str, str] = {}  # allocation id -> volunteer carrying it
    for route in plan.get("routes", []):
        ups: set[str] = set()
        for visit in route["visits"]:
            # Delivered on this route after its pickup (deliveries come first at a visit).
            for aid in visit.get("deliveries", []):
                if aid in ups:
                    carried[aid] = route["volunteer"]
            ups.update(visit.get("pickups", []))
    reasons = {u["allocation"]: u["reason"] for u in plan.get("unrouted", [])}
    pinned = {(p.supply, p.request, p.quantity) for p in scenario.pins}

    need: dict[str, float] = defaultdict(float)
    allocated: dict[str, float] = defaultdict(float)
    delivered: dict[str, float] = defaultdict(float)
    for r in scenario.requests:
        v = value[r.id] * r.quantity
        need[f"p{r.priority}"] += v
        need[f"r:{r.region}"] += v
        need["all"] += v
    rows: list[AllocationRow] = []
    pins_left = defaultdict(int)
    for pin in pinned:
        pins_left[pin] += 1
    for a in plan.get("allocations", []):
        r = requests[a["request"]]
        v = value[r.id] * a["quantity"]
        keys = (f"p{r.priority}", f"r:{r.region}", "all")
        for k in keys:
            allocated[k] += v
            if a["id"] in carried:
                delivered[k] += v
        key = (a["supply"], a["request"], a["quantity"])
        is_pin = pins_left[key] > 0
        if is_pin:
            pins_left[key] -= 1
        rows.append(
            AllocationRow(
                a["id"],
                a["supply"],
                a["request"],
                r.region,
                supplies[a["supply"]].category,
                r.priority,
                a["quantity"],
                carried.get(a["id"]),
                None if a["id"] in carried else reasons.get(a["id"], "unrouted"),
                is_pin,
            )
        )
    priorities = sorted({r.priority for r in scenario.requests}, reverse=True)
    regions = sorted({r.region for r in scenario.requests}, key=lambda g: (-need[f"r:{g}"], g))
    by_priority = [
        Bar(str(p), need[f"p{p}"], allocated[f"p{p}"], delivered[f"p{p}"]) for p in priorities
    ]
    by_region = [Bar(g, need[f"r:{g}"], allocated[f"r:{g}"], delivered[f"r:{g}"]) for g in regions]

    unmet_rows = [
        UnmetRow(
            u["request"],
            requests[u["request"]].region,
            requests[u["request"]].category,
            requests[u["request"]].priority,
            u["quantity"],
            u["reason"],
        )
        for u in plan.get("unmet", [])
    ]
    unmet_rows.sort(key=lambda u: (-u.priority, u.request))
    shown_unmet = [
        u for u in unmet_rows if filters.admits(u.region, u.category, u.priority, u.reason)
    ]
    collection = [
        a
        for a in rows
        if a.volunteer is None and filters.admits(a.region, a.category, a.priority, a.reason)
    ]
    plain = Filters(filters.region, filters.category, filters.priority)
    shown_allocations = [a for a in rows if plain.admits(a.region, a.category, a.priority, None)]

    volunteers = _volunteer_rows(session, (r["volunteer"] for r in plan.get("routes", [])))
    home = {v.id: (v.lat, v.lon) for v in scenario.volunteers}
    routes = []
    for index, route in enumerate(plan.get("routes", [])):
        ref = route["volunteer"]
        found = volunteers.get(ref)
        stops = []
        for order, visit in enumerate(route["visits"], start=1):
            ups, downs = visit.get("pickups", []), visit.get("deliveries", [])
            kind = "both" if ups and downs else ("pickup" if ups else "delivery")
            stops.append(
                RouteStop(order, visit["lat"], visit["lon"], kind, visit.get("arrival", ""))
            )
        routes.append(
            RouteRow(
                ref,
                found[0] if found else None,
                ROUTE_COLOURS[index % len(ROUTE_COLOURS)],
                home.get(ref, (stops[0].lat, stops[0].lon) if stops else (0.0, 0.0)),
                stops,
                sum(len(v.get("deliveries", [])) for v in route["visits"]),
                float(route.get("distance_km", 0.0)),
                found is not None and actor.sees_org(found[1]),
            )
        )

    options = {
        "regions": sorted({r.region for r in scenario.requests}),
        "categories": sorted({r.category for r in scenario.requests}),
        "priorities": priorities,
        "reasons": sorted({u.reason for u in unmet_rows} | {a.reason for a in rows if a.reason}),
    }
    adjustments = active_adjustments(session, batch.date, actor) if batch.status == "draft" else []
    return Review(
        id=batch.id,
        date=batch.date,
        status=batch.status,
        created_by=batch.created_by,
        created_at=batch.created_at,
        published_at=batch.published_at,
        superseded_by=batch.superseded_by_id,
        seed=batch.seed,
        iterations=batch.iterations,
        time_limit=batch.time_limit,
        metrics=dict(batch.metrics or {}),
        totals=Bar("all", need["all"], allocated["all"], delivered["all"]),
        by_priority=by_priority,
        by_region=by_region,
        unmet=_page(shown_unmet, filters.unmet_page, PAGE_SIZE),
        collection=collection,
        allocations=_page(shown_allocations, filters.allocation_page, PAGE_SIZE),
        routes=routes,
        options=options,
        exclusions=set(scenario.exclusions),
        pins=[(p.supply, p.request, p.quantity) for p in scenario.pins],
        adjustments=adjustments,
    )


# -- route sheet


@dataclass(frozen=True)
class SheetItem:
    allocation: str
    ref: str  # the lot (pickup) or the request (delivery), ORG/REF
    category: str
    unit: str
    quantity: int
    region: str
    window: tuple[int, int] | None = None  # deliveries: the household's window, minutes


@dataclass(frozen=True)
class SheetStop:
    order: int
    arrival: str
    place: str  # the site's name for a pickup at a site, else ""
    region: str
    pickups: list[SheetItem]
    deliveries: list[SheetItem]


@dataclass(frozen=True)
class RouteSheet:
    batch_id: int
    date: date
    status: str
    volunteer_ref: str
    volunteer_name: str | None
    shift: tuple[int, int]
    capacity_kg: float
    distance_km: float
    stops: list[SheetStop]

    @property
    def units(self) -> int:
        return sum(i.quantity for s in self.stops for i in s.deliveries)


def route_sheet(session: Session, batch_id: int, volunteer_id: int, actor: Actor) -> RouteSheet:
    """The printable route of volunteer ``volunteer_id`` in batch ``batch_id``.

    Only for the coordinators of the volunteer's organization (and admins); no route
    in this batch is *not found* as well.
    """
    require_role(actor, "coordinator")
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound(f"no volunteer {volunteer_id}")
    require_org(actor, volunteer.org_id, "volunteer")
    batch = _batch(session, batch_id)
    code = session.scalar(select(Organization.code).where(Organization.id == volunteer.org_id))
    ref = f"{code}/{volunteer.ref}"
    plan = json.loads(batch.plan)
    route = next((r for r in plan.get("routes", []) if r["volunteer"] == ref), None)
    if route is None:
        raise NotFound(f"volunteer {ref} has no route in batch {batch.id}")
    scenario = stored_scenario(batch)
    allocations = {a["id"]: a for a in plan.get("allocations", [])}
    supplies = {s.id: s for s in scenario.supplies}
    requests = {r.id: r for r in scenario.requests}
    me = next((v for v in scenario.volunteers if v.id == ref), None)
    sites = _lot_sites(
        session, {allocations[a]["supply"] for v in route["visits"] for a in v.get("pickups", [])}
    )

    def item(aid: str, pickup: bool) -> SheetItem:
        a = allocations[aid]
        s, r = supplies[a["supply"]], requests[a["request"]]
        unit = scenario.categories[s.category].unit
        if pickup:
            return SheetItem(aid, s.id, s.category, unit, a["quantity"], s.region)
        return SheetItem(aid, r.id, r.category, unit, a["quantity"], r.region, r.window)

    stops = []
    for order, visit in enumerate(route["visits"], start=1):
        ups = [item(a, True) for a in visit.get("pickups", [])]
        downs = [item(a, False) for a in visit.get("deliveries", [])]
        first = ups[0] if ups else downs[0] if downs else None
        place = sites.get(ups[0].ref, "") if ups else ""
        stops.append(
            SheetStop(
                order, visit.get("arrival", ""), place, first.region if first else "", ups, downs
            )
        )
    return RouteSheet(
        batch_id=batch.id,
        date=batch.date,
        status=batch.status,
        volunteer_ref=ref,
        volunteer_name=volunteer.name,
        shift=me.shift if me else (0, 1440),
        capacity_kg=me.capacity_kg if me else volunteer.capacity_kg,
        distance_km=float(route.get("distance_km", 0.0)),
        stops=stops,
    )


def _lot_sites(session: Session, refs: set[str]) -> dict[str, str]:
    """``ORG/REF`` of lots → the name of the site they are kept at."""
    wanted = {tuple(r.split("/", 1)) for r in refs if "/" in r}
    if not wanted:
        return {}
    rows = session.execute(
        select(Organization.code, SupplyLot.ref, Site.name)
        .join(Organization, Organization.id == SupplyLot.org_id)
        .join(Site, Site.id == SupplyLot.site_id)
        .where(Organization.code.in_(sorted({c for c, _ in wanted})))
    )
    return {f"{c}/{ref}": name for c, ref, name in rows if (c, ref) in wanted}


# -- the decision


def publish(session: Session, batch_id: int, actor: Actor) -> Batch:
    """Publish draft ``batch_id`` (:func:`engine.batch.publish`), all or nothing.

    A stale draft raises :class:`~engine.errors.ConflictError` with the reason and
    leaves the session as it was (the attempt runs in a savepoint), so the page that
    says so reads the unchanged state.
    """
    require_role(actor, "coordinator")
    _batch(session, batch_id)
    with session.begin_nested():
        return batches.publish(session, batch_id, actor.label)
