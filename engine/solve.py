"""``solve_scenario``: the pure decision of one day (allocation, then routes).

The same code path serves ``jessr solve`` (a file in, a file out) and, later,
the daily batch (a database snapshot in, persisted plan out).

**Route-aware allocation.** With volunteers, an allocation nobody can carry
today helps nobody today. Before routing, every allocation is tested against
every volunteer alone (home → supply → household → home within the shift and
the delivery window, vectorised); pairs that no volunteer could carry are
banned and the exact allocation is solved again, so their stock goes to
households that can be reached. This repeats until no new pair is banned (or
its share of the time limit is spent). Loads heavier than the largest vehicle
are split into several allocations that fit it. Without volunteers nothing is
banned: V is the exact optimum.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import matching
import routing
from engine.allocation import matching_problem
from engine.dispatch import plan_routes, routing_problem
from engine.scenario.model import Scenario
from engine.scenario.plan import Plan, PlanAllocation, Unmet, Unrouted
from routing.regional import geo_alone_feasibility

Stage = Callable[[str, float | None], None]  # (stage name, seconds it may take or None)
MIN_ROUTING_SECONDS = 1.0
ASSEMBLY_SECONDS = 0.3  # plan routes + metrics after routing (~0.1 s at 35,000 allocations)
# Jessr's days are prize-collecting (volunteers are scarce: most shipments stay
# optional), where VROOM's search keeps improving with time and PyVRP is the
# better polish. Measured on a generated 2,000-request / 60-volunteer day at
# 18 s: delivered value 5,885 with this split, 5,875 with VROOM alone, 5,397
# with the benchmark portfolio (VROOM 5 %, PyVRP 80 %, OR-Tools 15 %).
DAY_BACKENDS = ("vroom", "pyvrp")
DAY_SHARES = (0.85, 0.15)
ROUTE_AWARE_SHARE = 0.25  # at most this share of the time limit goes to ban rounds
MAX_BAN_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class AllocationOutcome:
    """Allocations of a day before routing (a plan without routes)."""

    plan: Plan
    matching: matching.MatchingResult
    values: dict[str, float]  # allocation id -> allocated value (w(r) × units)
    unit_value: dict[str, float]  # request id -> value of one unit (the spec's w(r))


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    """The plan plus the solvers' own results (for summaries and benchmarks)."""

    plan: Plan
    matching: matching.MatchingResult
    routing: routing.RoutingResult | None
    seconds: float
    unit_value: dict[str, float]  # request id -> value of one unit (the spec's w(r))
    banned_pairs: int = 0  # (supply, request) pairs no volunteer could carry


def allocate(
    scenario: Scenario,
    *,
    forbidden: frozenset[tuple[str, str]] = frozenset(),
    workers: int = 1,
) -> AllocationOutcome:
    """Exact allocation (max V, then min E) avoiding the ``forbidden`` pairs."""
    question = matching_problem(scenario, forbidden)
    result = matching.solve(question, matching.MatchingParams(workers=workers))
    return _assemble(scenario, question, result, None)


def top_up(scenario: Scenario, alloc: AllocationOutcome, workers: int = 1) -> AllocationOutcome:
    """``alloc`` plus an exact allocation of what it left, with no pair forbidden.

    After route-aware bans, leftover stock may still go to leftover needs over
    banned pairs: that cannot lower the delivered value (no volunteer could
    carry those anyway) and keeps V as high as it can be (a household may
    still collect at the depot).
    """
    question = matching_problem(scenario)
    if not alloc.plan.unmet:
        return alloc
    params = matching.MatchingParams(workers=workers)
    extra = matching.solve(_residual(question, list(alloc.matching.allocations)), params)
    return _assemble(scenario, question, alloc.matching, extra)


def _assemble(
    scenario: Scenario,
    question: matching.MatchingProblem,
    result: matching.MatchingResult,
    extra: matching.MatchingResult | None,
) -> AllocationOutcome:
    """Plan allocations (split to fit the largest vehicle), unmet needs and metrics."""
    found = list(result.allocations)
    effort = result.metrics.effort_kg_km
    if extra is not None:
        found.extend(extra.allocations)
        effort += extra.metrics.effort_kg_km
    chunk = _units_per_trip(scenario)
    category_of = {s.id: s.category for s in scenario.supplies} if chunk else {}
    allocations: list[PlanAllocation] = []
    for a in found:
        # A unit heavier than every vehicle (chunk 0) stays whole: routing
        # reports it as too_heavy.
        step = chunk.get(category_of.get(a.lot, ""), 0) or a.quantity
        left = a.quantity
        while left > 0:
            take = min(left, step)
            allocations.append(PlanAllocation(f"A{len(allocations) + 1}", a.lot, a.need, take))
            left -= take
    served = Counter()
    for a in found:
        served[a.need] += a.quantity
    # Reasons follow eligibility alone (bans make a need "outcompeted", never "no_supply").
    reason = {u.need: u.reason.value for u in result.unmet}
    unmet = tuple(
        Unmet(n.id, n.quantity - served[n.id], reason[n.id])
        for n in question.needs
        if served[n.id] < n.quantity
    )
    unit_value = {n.id: question.value_per_unit(n) for n in question.needs}
    values = {a.id: unit_value[a.request] * a.quantity for a in allocations}
    metrics = {
        "allocated_value": sum(values.values()),
        "delivered_value": 0.0,
        "effort_kg_km": effort,
        "route_km": 0.0,
    }
    plan = Plan(tuple(allocations), unmet=unmet, metrics=metrics)
    return AllocationOutcome(plan, result, values, unit_value)


def _residual(
    question: matching.MatchingProblem, found: list[matching.Allocation]
) -> matching.MatchingProblem:
    """What is left of ``question`` after ``found``, with no pair forbidden."""
    given: Counter[str] = Counter()
    got: Counter[str] = Counter()
    for a in found:
        given[a.lot] += a.quantity
        got[a.need] += a.quantity
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
    return replace(question, lots=lots, needs=needs, forbidden=frozenset())


def solve_scenario(
    scenario: Scenario,
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int = 2,
    stage: Stage | None = None,
    route_aware: bool = True,
) -> SolveOutcome:
    """Allocate supplies to requests exactly, then route the allocations.

    ``time_limit`` bounds the whole call in seconds: the exact allocation takes
    what it needs and routing gets the rest (at least one second).
    """
    started = time.perf_counter()
    if stage:
        stage("allocating", None)
    alloc = allocate(scenario, workers=workers)
    banned: frozenset[tuple[str, str]] = frozenset()
    if scenario.volunteers and route_aware:
        alloc, banned = _ban_unreachable(scenario, alloc, workers, started, time_limit, stage)

    allocations = alloc.plan.allocations
    routed = None
    routes: tuple = ()
    if not allocations:
        unrouted: tuple[Unrouted, ...] = ()
    elif not scenario.volunteers:
        unrouted = tuple(Unrouted(a.id, "no_volunteers") for a in allocations)
    else:
        dispatch = routing_problem(scenario, allocations, alloc.values)
        # Routing gets what is left after building its problem, minus a margin
        # for turning its routes into the plan (result assembly).
        left = time_limit - (time.perf_counter() - started) - ASSEMBLY_SECONDS
        budget = max(MIN_ROUTING_SECONDS, left)
        if stage:
            stage("routing", budget)
        routed = routing.solve(dispatch.problem, day_routing_params(budget, workers), seed=seed)
        routes = plan_routes(dispatch, routed.routes)
        unrouted = tuple(Unrouted(d.shipment, str(d.reason)) for d in routed.dropped)

    carried = {sid for r in routes for v in r.visits for sid in v.deliveries}
    metrics = dict(alloc.plan.metrics)
    metrics["delivered_value"] = sum(alloc.values[a] for a in carried)
    metrics["route_km"] = sum(r.distance_km for r in routes)
    plan = Plan(allocations, routes, unrouted, alloc.plan.unmet, metrics)
    return SolveOutcome(
        plan,
        alloc.matching,
        routed,
        time.perf_counter() - started,
        alloc.unit_value,
        len(banned),
    )


def day_routing_params(time_limit: float, workers: int) -> routing.SolveParams:
    """The routing parameters ``jessr solve`` uses for a day."""
    return routing.SolveParams(
        time_limit=time_limit, backends=DAY_BACKENDS, shares=DAY_SHARES, workers=workers
    )


def _ban_unreachable(
    scenario: Scenario,
    alloc: AllocationOutcome,
    workers: int,
    started: float,
    time_limit: float,
    stage: Stage | None,
) -> tuple[AllocationOutcome, frozenset[tuple[str, str]]]:
    """Re-allocate until no allocation is one that no volunteer could carry alone."""
    banned: frozenset[tuple[str, str]] = frozenset()
    for _ in range(MAX_BAN_ROUNDS):
        if time.perf_counter() - started > ROUTE_AWARE_SHARE * time_limit:
            break
        allocations = alloc.plan.allocations
        if not allocations:
            break
        dispatch = routing_problem(scenario, allocations, alloc.values)
        _, reasons = geo_alone_feasibility(dispatch.problem)
        fresh = {
            (a.supply, a.request)
            for a, why in zip(allocations, reasons, strict=True)
            if why is not None
        } - banned
        if not fresh:
            break
        banned |= fresh
        if stage:
            stage(f"re-allocating around {len(banned)} unreachable pairs", None)
        alloc = allocate(scenario, forbidden=banned, workers=workers)
    if banned:
        alloc = top_up(scenario, alloc, workers)
    return alloc, banned


def _units_per_trip(scenario: Scenario) -> dict[str, int]:
    """Per category, the most units the largest volunteer vehicle can carry.

    Only with volunteers: an allocation above this is split so that it can
    travel in several pieces (0 when even one unit is too heavy).
    """
    if not scenario.volunteers:
        return {}
    biggest = max(v.capacity_kg for v in scenario.volunteers)
    return {c.id: math.floor(biggest / c.weight_kg + 1e-9) for c in scenario.categories.values()}
