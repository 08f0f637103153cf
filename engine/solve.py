"""``solve_scenario``: the pure decision of one day (allocation, then routes).

The same code path serves ``jessr solve`` (a file in, a file out) and, later,
the daily batch (a database snapshot in, persisted plan out).

**Route-aware allocation (a feedback loop).** With volunteers, an allocation
nobody carries today helps nobody today, and volunteers are the bottleneck.
Round 1 is the exact allocation (max V, then min E), routed with
``DayParams.round1_share`` of the routing budget. Round 2 keeps the delivered
allocations fixed and re-allocates the remaining stock to the remaining needs
exactly, forbidding the (supply, request) pairs of round 1 that were not
delivered (that stock tries other households, e.g. nearer to the routes);
fixed + new allocations are routed again with the rest of the budget, warm
started from the round-1 routes (``routing.solve(..., initial=...)``, which
never returns less delivered value than its warm start). Stock still left
then goes, exactly and over any pair, to needs still open (kept unrouted: it
raises V; a household may still collect at the depot). Delivered value D is
never below round 1's: if round 2 delivers less for any reason, round 1's plan
is returned. Loads heavier than the largest vehicle are split into several
allocations that fit it, as many as the fleet could carry in a day at most
(:func:`_split`); what is beyond stays one unrouted allocation. Without
volunteers there is one round: V is the exact optimum.

A coordinator's adjustments travel in the scenario: its ``exclusions`` are
never allocated (the matching bans exactly those pairs), its ``pins`` are
allocations ``A1``..``Ak`` of exactly their pair and quantity, made before the
matching allocates the rest and kept through both rounds (routed if a route
can take them, else offered for collection like any unrouted allocation).

Every tuning constant of the day is a field of :class:`engine.params.DayParams`.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import matching
import routing
from engine.allocation import matching_problem
from engine.dispatch import plan_routes, routing_problem
from engine.params import DayParams
from engine.scenario.errors import ScenarioError
from engine.scenario.model import Scenario, pair_problems
from engine.scenario.plan import Plan, PlanAllocation, Unmet, Unrouted
from matching.geo import great_circle_km
from routing.portfolio import to_steps
from routing.regional import geo_alone_feasibility
from routing.result import DropReason

Stage = Callable[[str, float | None], None]  # (stage name, seconds it may take or None)
DEFAULT_PARAMS = DayParams()
UNITS_CAP = 10**15  # units per vehicle load treated as "any quantity"


@dataclass(frozen=True, slots=True)
class AllocationOutcome:
    """Allocations of a day before routing (a plan without routes)."""

    plan: Plan
    matching: matching.MatchingResult
    values: dict[str, float]  # allocation id -> allocated value (w(r) × units)
    unit_value: dict[str, float]  # request id -> value of one unit (the spec's w(r))
    # Allocations beyond what the fleet can carry today (the rest of a split
    # load): never offered to routing, unrouted as no_volunteer_capacity.
    overflow: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    """The plan plus the solvers' own results (for summaries and benchmarks)."""

    plan: Plan
    matching: matching.MatchingResult
    routing: routing.RoutingResult | None
    seconds: float
    unit_value: dict[str, float]  # request id -> value of one unit (the spec's w(r))
    banned_pairs: int = 0  # (supply, request) pairs forbidden in round 2 (undelivered in round 1)
    # What a time-limited solve's searches did (record_of): pass it back as
    # solve_scenario(..., search_record=...) to replay the same plan.
    # None in iteration mode, which replays from its seed and iterations.
    search_record: dict[str, Any] | None = None


def allocate(
    scenario: Scenario,
    *,
    forbidden: frozenset[tuple[str, str]] = frozenset(),
    params: DayParams = DEFAULT_PARAMS,
    executor: Executor | None = None,
) -> AllocationOutcome:
    """Exact allocation (max V, then min E) avoiding the ``forbidden`` pairs.

    The scenario's pins come first, as allocations ``A1``..``Ak`` of exactly their
    pair and quantity (never split); the rest of the stock is allocated exactly to
    the rest of the needs around them. Its exclusions are never allocated.
    """
    question = matching_problem(scenario, forbidden)
    pinned = [
        PlanAllocation(f"A{i + 1}", p.supply, p.request, p.quantity)
        for i, p in enumerate(scenario.pins)
    ]
    if not pinned:
        result = _match(question, matching.MatchingParams(), executor)
        return _assemble(scenario, question, result, params)
    taken = [(a.supply, a.request, a.quantity) for a in pinned]
    result = _match(_residual(question, taken, forbidden), matching.MatchingParams(), executor)
    return _assemble(scenario, question, _beside_pins(scenario, result), params, pinned)


def _beside_pins(scenario: Scenario, result: matching.MatchingResult) -> matching.MatchingResult:
    """``result`` (of the stock left after the pins) with truthful unmet reasons.

    A lot the pins used up is absent from that residual question, so a need whose
    only eligible lots were such lots comes back ``no_supply``; eligible stock did
    exist (the pins took it): ``outcompeted``, as the format defines it.
    """
    pinned_units = Counter[str]()
    for p in scenario.pins:
        pinned_units[p.supply] += p.quantity
    used_up = [s for s in scenario.supplies if pinned_units[s.id] >= s.quantity]
    claims = [u for u in result.unmet if u.reason == matching.UnmetReason.NO_SUPPLY]
    if not used_up or not claims:
        return result
    requests = {r.id: r for r in scenario.requests}
    refuted = {
        u.need
        for u in claims
        if any(
            not pair_problems(scenario.date, scenario.policy, s, requests[u.need]) for s in used_up
        )
    }
    if not refuted:
        return result
    unmet = tuple(
        replace(u, reason=matching.UnmetReason.OUTCOMPETED) if u.need in refuted else u
        for u in result.unmet
    )
    return replace(result, unmet=unmet)


def _match(
    question: matching.MatchingProblem,
    params: matching.MatchingParams,
    executor: Executor | None,
) -> matching.MatchingResult:
    """``matching.solve``; weights beyond exact 64-bit costs are invalid input."""
    try:
        return matching.solve(question, params, executor=executor)
    except matching.ValueRangeError as exc:
        raise ScenarioError(f"policy: {exc}") from None


def _assemble(
    scenario: Scenario,
    question: matching.MatchingProblem,
    result: matching.MatchingResult,
    params: DayParams,
    pinned: Sequence[PlanAllocation] = (),
) -> AllocationOutcome:
    """Plan allocations (split to fit the largest vehicle), unmet needs and metrics.

    ``pinned`` allocations come first, whole; ``result`` allocated what they left.
    """
    overflow: set[str] = set()
    # The pinned loads take a trip each, as the kept loads of round 2 do.
    trips = max(0, _fleet_trips(scenario, params) - len(pinned))
    allocations = _split(scenario, result.allocations, list(pinned), overflow, trips)
    unmet = _unmet(question, allocations, result)
    unit_value = {n.id: question.value_per_unit(n) for n in question.needs}
    values = {a.id: unit_value[a.request] * a.quantity for a in allocations}
    metrics = {
        "allocated_value": sum(values.values()),
        "delivered_value": 0.0,
        # The matching measured the effort of what it allocated, not of the pins.
        "effort_kg_km": (_effort(scenario, allocations) if pinned else result.metrics.effort_kg_km),
        "route_km": 0.0,
    }
    plan = Plan(tuple(allocations), unmet=unmet, metrics=metrics)
    return AllocationOutcome(plan, result, values, unit_value, frozenset(overflow))


def _split(
    scenario: Scenario,
    found: Iterable[matching.Allocation],
    allocations: list[PlanAllocation],
    overflow: set[str],
    trips: int,
) -> list[PlanAllocation]:
    """Append ``found`` to ``allocations`` as plan allocations that fit the
    largest vehicle, numbered on from ``allocations`` ("A1", "A2", ...).

    Bounded by records, not units: every allocation is one piece, and the
    further pieces of loads that need several come out of one budget,
    ``trips`` (at most what the fleet could carry in a day,
    :func:`_fleet_trips`), so a day that fits its fleet splits as it always
    did.
    What a load has beyond its pieces stays one allocation, added to
    ``overflow``: nobody can carry it today.
    """
    chunk = _units_per_trip(scenario)
    category_of = {s.id: s.category for s in scenario.supplies} if chunk else {}
    spare = trips
    for a in found:
        # A unit heavier than every vehicle (chunk 0) stays whole: routing
        # reports it as too_heavy.
        step = chunk.get(category_of.get(a.lot, ""), 0) or a.quantity
        pieces = 1 + min(-(-a.quantity // step) - 1, spare)
        spare -= pieces - 1
        left = a.quantity
        for _ in range(pieces):
            take = min(left, step)
            allocations.append(PlanAllocation(f"A{len(allocations) + 1}", a.lot, a.need, take))
            left -= take
        if left > 0:
            allocations.append(PlanAllocation(f"A{len(allocations) + 1}", a.lot, a.need, left))
            overflow.add(allocations[-1].id)
    return allocations


def _residual(
    question: matching.MatchingProblem,
    found: Iterable[tuple[str, str, int]],
    forbidden: frozenset[tuple[str, str]] = frozenset(),
) -> matching.MatchingProblem:
    """What is left of ``question`` after ``found`` (lot, need, quantity)."""
    given: Counter[str] = Counter()
    got: Counter[str] = Counter()
    for lot, need, quantity in found:
        given[lot] += quantity
        got[need] += quantity
    lots = tuple(
        replace(lot, quantity=lot.quantity - given[lot.id])
        for lot in question.lots
        if lot.quantity > given[lot.id]
    )
    needs = tuple(
        replace(need, quantity=need.quantity - got[need.id])
        for need in question.needs
        if need.quantity > got[need.id]
    )
    return replace(question, lots=lots, needs=needs, forbidden=forbidden)


def solve_scenario(
    scenario: Scenario,
    params: DayParams = DEFAULT_PARAMS,
    *,
    executor: Executor | None = None,
    progress: Stage | None = None,
    search_record: Mapping[str, Any] | None = None,
) -> SolveOutcome:
    """Allocate supplies to requests exactly, then route the allocations.

    ``params.time_limit`` bounds the whole call in seconds: the exact
    allocation takes what it needs and routing gets the rest (at least
    ``params.min_routing_seconds``). ``progress`` is told each stage and the
    seconds it may take (``None`` when unknown, as in iteration mode).
    ``params.iterations``, when set, bounds routing by work instead: round 1
    of the feedback loop gets ``round1_share`` of the iterations, round 2 the
    rest, and no decision reads the clock. ``executor`` runs the solvers'
    independent parts; ``None`` solves in this process.

    A time-limited solve returns ``SolveOutcome.search_record``: per routing
    round, what its searches did (``routing.RoutingResult.record``), and
    whether round 2 ran. Given back as ``search_record`` with the same
    scenario and ``params``, the solve re-does that work without the clock
    and returns the same plan, byte for byte (``routing/README.md``,
    "Reproducible solves").
    """
    replay = search_record
    if replay is not None:
        if params.iterations is not None:
            raise ValueError("search_record: a record replays a time-limited solve, not iterations")
        if not isinstance(replay, Mapping) or replay.get("version") != RECORD_VERSION:
            raise ValueError(f"search_record: expected a version {RECORD_VERSION} search record")
    started = time.perf_counter()
    if progress:
        progress("allocating", None)
    alloc = allocate(scenario, params=params, executor=executor)
    allocations = alloc.plan.allocations
    if not allocations or not scenario.volunteers:
        why = DropReason.NO_VOLUNTEERS
        unrouted = tuple(Unrouted(a.id, why) for a in allocations)
        plan = replace(alloc.plan, unrouted=unrouted)
        return SolveOutcome(
            plan,
            alloc.matching,
            None,
            time.perf_counter() - started,
            alloc.unit_value,
            search_record=record_of(params, None),
        )

    def left() -> float:
        # Routing gets what is left, minus a margin for turning its routes
        # into the plan (result assembly).
        return params.time_limit - (time.perf_counter() - started) - params.assembly_seconds

    its = params.iterations
    if not params.route_aware:
        budget = max(params.min_routing_seconds, left())
        plan, routed = _routed_plan(
            scenario, alloc, (budget, its), params, progress, executor, _round(replay, "round1")
        )
        return SolveOutcome(
            plan,
            alloc.matching,
            routed,
            time.perf_counter() - started,
            alloc.unit_value,
            search_record=record_of(params, routed),
        )

    budget1 = max(params.min_routing_seconds, params.round1_share * left())
    its1 = None if its is None else max(1, round(params.round1_share * its))
    plan1, routed1 = _routed_plan(
        scenario, alloc, (budget1, its1), params, progress, executor, _round(replay, "round1")
    )
    delivered = {sid for r in routed1.routes for s in r.stops for sid in s.deliveries}
    # Pinned allocations (A1..Ak) stay whether or not round 1 carried them.
    pinned = {a.id for a in allocations[: len(scenario.pins)]}
    fixed = [a for a in allocations if a.id in delivered or a.id in pinned]
    undelivered = [a for a in allocations if a.id not in delivered and a.id not in pinned]
    forbidden = frozenset((a.supply, a.request) for a in undelivered)
    outcome1 = SolveOutcome(
        plan1,
        alloc.matching,
        routed1,
        time.perf_counter() - started,
        alloc.unit_value,
        search_record=record_of(params, routed1),
    )
    # Bounded by iterations, the plan must not depend on the clock: round 2
    # runs. A replay runs it when the recorded solve did.
    if replay is not None:
        late = not replay.get("round2_ran")
    else:
        late = its is None and left() < params.min_routing_seconds
    if not undelivered or late:
        return outcome1

    if progress:
        progress(f"re-allocating around {len(forbidden)} undelivered pairs", None)
    # Fixed allocations first, renumbered A1..Ak; the warm start follows them.
    renumber = {a.id: f"A{i + 1}" for i, a in enumerate(fixed)}
    kept = [replace(a, id=renumber[a.id]) for a in fixed]
    matching_params = matching.MatchingParams()
    question = matching_problem(scenario, forbidden)
    taken = [(a.supply, a.request, a.quantity) for a in kept]
    new = _match(_residual(question, taken, forbidden), matching_params, executor)
    overflow: set[str] = set()
    # The fleet's trips left after the kept loads go to the new allocations;
    # the last ones are never routed, so they get no further pieces.
    trips = max(0, _fleet_trips(scenario, params) - len(kept))
    routed_allocs = _split(scenario, new.allocations, list(kept), overflow, trips)
    taken += [(a.lot, a.need, a.quantity) for a in new.allocations]
    free = _residual(matching_problem(scenario), taken)
    extra = _match(free, matching_params, executor) if free.lots and free.needs else None
    final = _split(scenario, extra.allocations if extra else (), list(routed_allocs), overflow, 0)
    values = {a.id: alloc.unit_value[a.request] * a.quantity for a in final}

    warm = {
        vehicle: [(renumber[sid], kind) for sid, kind in steps]
        for vehicle, steps in to_steps(routed1).items()
    }
    offered = [a for a in routed_allocs if a.id not in overflow]
    dispatch = routing_problem(scenario, offered, values)
    budget2 = max(params.min_routing_seconds, left())
    its2 = None if its is None or its1 is None else max(1, its - its1)
    if progress:
        progress("routing again", budget2 if its is None else None)
    params2 = _routing_params(
        params, (budget2, its2), params.round2_backends, None, _round(replay, "round2")
    )
    routed2 = routing.solve(
        dispatch.problem, params2, seed=params.seed, initial=warm, executor=executor
    )
    routes = plan_routes(dispatch, routed2.routes)
    unrouted = [Unrouted(d.shipment, d.reason) for d in routed2.dropped]
    unrouted += [
        Unrouted(a.id, DropReason.NO_VOLUNTEER_CAPACITY) for a in routed_allocs if a.id in overflow
    ]
    rest = [a for a in final[len(routed_allocs) :] if a.id not in overflow]
    if rest:
        _, reasons = geo_alone_feasibility(routing_problem(scenario, rest, values).problem)
        unrouted += [
            Unrouted(a.id, why or DropReason.NO_VOLUNTEER_CAPACITY)
            for a, why in zip(rest, reasons, strict=True)
        ]
    unrouted += [
        Unrouted(a.id, DropReason.NO_VOLUNTEER_CAPACITY)
        for a in final[len(routed_allocs) :]
        if a.id in overflow
    ]
    carried = {sid for r in routes for v in r.visits for sid in v.deliveries}
    metrics = {
        "allocated_value": sum(values.values()),
        # fsum: exact, so the same whatever order the set yields (string
        # hashing differs per process), and round 2 compares with round 1
        # the same way in every replay (iteration mode).
        "delivered_value": math.fsum(values[a] for a in carried),
        "effort_kg_km": _effort(scenario, final),
        "route_km": sum(r.distance_km for r in routes),
    }
    record = record_of(params, routed1, routed2)
    if metrics["delivered_value"] < plan1.metrics["delivered_value"]:
        # Cannot happen with a valid warm start; never lose D.
        return replace(outcome1, search_record=record)
    unmet = _unmet(question, final, alloc.matching)
    plan = Plan(tuple(final), routes, tuple(unrouted), unmet, metrics)
    return SolveOutcome(
        plan,
        alloc.matching,
        routed2,
        time.perf_counter() - started,
        alloc.unit_value,
        len(forbidden),
        record,
    )


RECORD_VERSION = 1


def record_of(
    params: DayParams,
    round1: routing.RoutingResult | None,
    round2: routing.RoutingResult | None = None,
) -> dict[str, Any] | None:
    """A day's search record: each routing round's record, and whether round 2 ran.

    ``None`` in iteration mode: the seed and the iterations replay it.
    JSON-serialisable, for a batch to store next to its seed and budget.
    """
    if params.iterations is not None:
        return None
    return {
        "version": RECORD_VERSION,
        "round1": round1.record if round1 is not None else None,
        "round2_ran": round2 is not None,
        "round2": round2.record if round2 is not None else None,
    }


def _round(replay: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    """A routing round's record in a day's search record (None: not replaying)."""
    if replay is None:
        return None
    rec = replay.get(name)
    if rec is None:
        raise ValueError(f"search_record: no {name} recorded, but this day routes one")
    return rec


def _routed_plan(
    scenario: Scenario,
    alloc: AllocationOutcome,
    budget: tuple[float, int | None],
    params: DayParams,
    progress: Stage | None,
    executor: Executor | None,
    replay: Mapping[str, Any] | None = None,
) -> tuple[Plan, routing.RoutingResult]:
    """``alloc``'s allocations routed within ``budget`` (seconds, iterations or
    None): a complete plan."""
    offered = [a for a in alloc.plan.allocations if a.id not in alloc.overflow]
    dispatch = routing_problem(scenario, offered, alloc.values)
    if progress:
        progress("routing", budget[0] if budget[1] is None else None)
    routed = routing.solve(
        dispatch.problem,
        _routing_params(params, budget, params.day_backends, params.day_shares, replay),
        seed=params.seed,
        executor=executor,
    )
    routes = plan_routes(dispatch, routed.routes)
    unrouted = [Unrouted(d.shipment, d.reason) for d in routed.dropped]
    unrouted += [
        Unrouted(a.id, DropReason.NO_VOLUNTEER_CAPACITY)
        for a in alloc.plan.allocations
        if a.id in alloc.overflow
    ]
    carried = {sid for r in routes for v in r.visits for sid in v.deliveries}
    metrics = dict(alloc.plan.metrics)
    metrics["delivered_value"] = math.fsum(alloc.values[a] for a in carried)  # order-free
    metrics["route_km"] = sum(r.distance_km for r in routes)
    plan = replace(alloc.plan, routes=routes, unrouted=tuple(unrouted), metrics=metrics)
    return plan, routed


def _unmet(
    question: matching.MatchingProblem,
    allocations: Sequence[PlanAllocation],
    first: matching.MatchingResult,
) -> tuple[Unmet, ...]:
    """Needs not fully served by ``allocations``; reasons as in the first
    (unconstrained) allocation, else "outcompeted" (the stock existed)."""
    served: Counter[str] = Counter()
    for a in allocations:
        served[a.request] += a.quantity
    reason = {u.need: u.reason for u in first.unmet}
    return tuple(
        Unmet(n.id, n.quantity - served[n.id], reason.get(n.id, matching.UnmetReason.OUTCOMPETED))
        for n in question.needs
        if served[n.id] < n.quantity
    )


def _effort(scenario: Scenario, allocations: Sequence[PlanAllocation]) -> float:
    """E: units × kg per unit × great-circle km from supply to household."""
    if not allocations:
        return 0.0
    supplies = {s.id: s for s in scenario.supplies}
    requests = {r.id: r for r in scenario.requests}
    sup = [supplies[a.supply] for a in allocations]
    req = [requests[a.request] for a in allocations]
    km = great_circle_km(
        [x.lat for x in sup], [x.lon for x in sup], [x.lat for x in req], [x.lon for x in req]
    )
    kg = np.array(
        [
            a.quantity * scenario.categories[s.category].weight_kg
            for a, s in zip(allocations, sup, strict=True)
        ]
    )
    return float(np.sum(kg * km))


def day_routing_params(
    time_limit: float, workers: int, params: DayParams = DEFAULT_PARAMS
) -> routing.SolveParams:
    """The routing parameters ``jessr solve`` uses for a day (round 1, or the only round)."""
    return _routing_params(
        replace(params, workers=workers),
        (time_limit, params.iterations),
        params.day_backends,
        params.day_shares,
    )


def _routing_params(
    params: DayParams,
    budget: tuple[float, int | None],
    backends: tuple[str, ...],
    shares: tuple[float, ...] | None,
    replay: Mapping[str, Any] | None = None,
) -> routing.SolveParams:
    """One routing round's parameters: ``budget`` is (seconds, iterations or None);
    ``replay``: the round's recorded search, to re-do."""
    time_limit, iterations = budget
    options: dict[str, object] = {}
    if shares is not None:
        options["shares"] = shares
    for name in ("decompose_above", "part_size", "min_parts"):
        if getattr(params, name) is not None:
            options[name] = getattr(params, name)
    # VROOM is the day's main search: its exploration level is chosen by
    # size and budget (routing.backends.vroom_backend).
    return routing.SolveParams(
        time_limit=time_limit,
        iterations=iterations,
        backends=backends,
        workers=params.workers,
        vroom_exploration=None,
        replay=replay,
        **options,  # type: ignore[arg-type]
    )


def _fleet_trips(scenario: Scenario, params: DayParams) -> int:
    """The most vehicle loads the fleet could carry in a day: per volunteer,
    ``params.max_trips``, or fewer when the shift cannot hold one visit of
    ``stop_minutes`` per trip (a trip has at least one)."""
    stop = scenario.policy.stop_minutes
    total = 0
    for v in scenario.volunteers:
        length = v.shift[1] - v.shift[0]
        fits = (
            int(length // stop) if stop > 0 and math.isfinite(length / stop) else params.max_trips
        )
        total += max(1, min(params.max_trips, fits))
    return total


def _units_per_trip(scenario: Scenario) -> dict[str, int]:
    """Per category, the most units the largest volunteer vehicle can carry.

    Only with volunteers: an allocation above this is split so that it can
    travel in several pieces (0 when even one unit is too heavy).
    """
    if not scenario.volunteers:
        return {}
    biggest = max(v.capacity_kg for v in scenario.volunteers)
    out = {}
    for c in scenario.categories.values():
        units = biggest / c.weight_kg + 1e-9
        # Past any quantity the format allows (10⁹) a vehicle takes a load whole;
        # the cap also keeps an infinite ratio (weights near 0) out of floor().
        out[c.id] = math.floor(units) if units < UNITS_CAP else UNITS_CAP
    return out
