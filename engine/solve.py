"""``solve_scenario``: the pure decision of one day (allocation, then routes).

The same code path serves ``jessr solve`` (a file in, a file out) and, later,
the daily batch (a database snapshot in, persisted plan out).

**Route-aware allocation (a feedback loop).** With volunteers, an allocation
nobody carries today helps nobody today, and volunteers are the bottleneck.
Round 1 is the exact allocation (max V, then min E), routed with
``ROUND1_SHARE`` of the routing budget. Round 2 keeps the delivered
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
allocations that fit it. Without volunteers there is one round: V is the
exact optimum.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np

import matching
import routing
from engine.allocation import matching_problem
from engine.dispatch import plan_routes, routing_problem
from engine.scenario.model import Scenario
from engine.scenario.plan import Plan, PlanAllocation, Unmet, Unrouted
from matching.geo import great_circle_km
from routing.portfolio import to_steps
from routing.regional import geo_alone_feasibility

Stage = Callable[[str, float | None], None]  # (stage name, seconds it may take or None)
MIN_ROUTING_SECONDS = 1.0
ASSEMBLY_SECONDS = 0.3  # plan routes + metrics after routing (~0.1 s at 35,000 allocations)
# Jessr's days are prize-collecting (volunteers are scarce: most shipments stay
# optional), where VROOM's search keeps improving with time and PyVRP is the
# better polish. Measured on a generated 2,000-request / 60-volunteer day at
# 18 s: delivered value 5,885 with this split, 5,875 with VROOM alone, 5,397
# with the benchmark portfolio (VROOM 5 %, PyVRP 80 %, OR-Tools 15 %).
# VROOM searches with ``workers`` threads when the day is routed in one piece
# (routing/README.md, "Using the whole limit and both cores").
DAY_BACKENDS = ("vroom", "pyvrp")
DAY_SHARES = (0.85, 0.15)
# Routing round 1 of the feedback loop gets this share of the routing budget.
# Measured (generated 2,000-request / 300-lot / 60-volunteer days, 20 s,
# seeds 1-3, checker D): 0.6 with VROOM+PyVRP in round 2 lost to the two-stage
# plan on median (5,922 vs 5,949; seed 2: 5,922 vs 6,757, round 1 alone only
# 5,069: routing is far from converged at 12 s); 0.8 with PyVRP alone in
# round 2 beat it on every seed (6,218 / 6,836 / 6,112 vs 5,968 / 6,759 / 5,887).
ROUND1_SHARE = 0.8
# Round 2 starts from round 1's routes: a cold VROOM construction would only
# spend its share rediscovering them, so PyVRP's search takes it all.
ROUND2_BACKENDS = ("pyvrp",)


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
    banned_pairs: int = 0  # (supply, request) pairs forbidden in round 2 (undelivered in round 1)


def allocate(
    scenario: Scenario,
    *,
    forbidden: frozenset[tuple[str, str]] = frozenset(),
    executor: Executor | None = None,
) -> AllocationOutcome:
    """Exact allocation (max V, then min E) avoiding the ``forbidden`` pairs."""
    question = matching_problem(scenario, forbidden)
    result = matching.solve(question, executor=executor)
    return _assemble(scenario, question, result)


def _assemble(
    scenario: Scenario,
    question: matching.MatchingProblem,
    result: matching.MatchingResult,
) -> AllocationOutcome:
    """Plan allocations (split to fit the largest vehicle), unmet needs and metrics."""
    allocations = _split(scenario, result.allocations, [])
    unmet = _unmet(question, allocations, result)
    unit_value = {n.id: question.value_per_unit(n) for n in question.needs}
    values = {a.id: unit_value[a.request] * a.quantity for a in allocations}
    metrics = {
        "allocated_value": sum(values.values()),
        "delivered_value": 0.0,
        "effort_kg_km": result.metrics.effort_kg_km,
        "route_km": 0.0,
    }
    plan = Plan(tuple(allocations), unmet=unmet, metrics=metrics)
    return AllocationOutcome(plan, result, values, unit_value)


def _split(
    scenario: Scenario, found: Iterable[matching.Allocation], allocations: list[PlanAllocation]
) -> list[PlanAllocation]:
    """Append ``found`` to ``allocations`` as plan allocations that fit the
    largest vehicle, numbered on from ``allocations`` ("A1", "A2", ...)."""
    chunk = _units_per_trip(scenario)
    category_of = {s.id: s.category for s in scenario.supplies} if chunk else {}
    for a in found:
        # A unit heavier than every vehicle (chunk 0) stays whole: routing
        # reports it as too_heavy.
        step = chunk.get(category_of.get(a.lot, ""), 0) or a.quantity
        left = a.quantity
        while left > 0:
            take = min(left, step)
            allocations.append(PlanAllocation(f"A{len(allocations) + 1}", a.lot, a.need, take))
            left -= take
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
    alloc = allocate(scenario)
    allocations = alloc.plan.allocations
    if not allocations or not scenario.volunteers:
        why = "no_volunteers"
        unrouted = tuple(Unrouted(a.id, why) for a in allocations)
        plan = replace(alloc.plan, unrouted=unrouted)
        return SolveOutcome(
            plan, alloc.matching, None, time.perf_counter() - started, alloc.unit_value
        )

    def left() -> float:
        # Routing gets what is left, minus a margin for turning its routes
        # into the plan (result assembly).
        return time_limit - (time.perf_counter() - started) - ASSEMBLY_SECONDS

    if not route_aware:
        budget = max(MIN_ROUTING_SECONDS, left())
        plan, routed = _routed_plan(scenario, alloc, budget, workers, seed, stage)
        return SolveOutcome(
            plan, alloc.matching, routed, time.perf_counter() - started, alloc.unit_value
        )

    budget1 = max(MIN_ROUTING_SECONDS, ROUND1_SHARE * left())
    plan1, routed1 = _routed_plan(scenario, alloc, budget1, workers, seed, stage)
    delivered = {sid for r in routed1.routes for s in r.stops for sid in s.deliveries}
    fixed = [a for a in allocations if a.id in delivered]
    undelivered = [a for a in allocations if a.id not in delivered]
    forbidden = frozenset((a.supply, a.request) for a in undelivered)
    outcome1 = SolveOutcome(
        plan1, alloc.matching, routed1, time.perf_counter() - started, alloc.unit_value
    )
    if not undelivered or left() < MIN_ROUTING_SECONDS:
        return outcome1

    if stage:
        stage(f"re-allocating around {len(forbidden)} undelivered pairs", None)
    # Fixed allocations first, renumbered A1..Ak; the warm start follows them.
    renumber = {a.id: f"A{i + 1}" for i, a in enumerate(fixed)}
    kept = [replace(a, id=renumber[a.id]) for a in fixed]
    params = matching.MatchingParams()
    question = matching_problem(scenario, forbidden)
    taken = [(a.supply, a.request, a.quantity) for a in kept]
    new = matching.solve(_residual(question, taken, forbidden), params)
    routed_allocs = _split(scenario, new.allocations, list(kept))
    taken += [(a.lot, a.need, a.quantity) for a in new.allocations]
    free = _residual(matching_problem(scenario), taken)
    extra = matching.solve(free, params) if free.lots and free.needs else None
    final = _split(scenario, extra.allocations if extra else (), list(routed_allocs))
    values = {a.id: alloc.unit_value[a.request] * a.quantity for a in final}

    warm = {
        vehicle: [(renumber[sid], kind) for sid, kind in steps]
        for vehicle, steps in to_steps(routed1).items()
    }
    dispatch = routing_problem(scenario, routed_allocs, values)
    budget2 = max(MIN_ROUTING_SECONDS, left())
    if stage:
        stage("routing again", budget2)
    params2 = routing.SolveParams(time_limit=budget2, backends=ROUND2_BACKENDS, workers=workers)
    routed2 = routing.solve(dispatch.problem, params2, seed=seed, initial=warm)
    routes = plan_routes(dispatch, routed2.routes)
    unrouted = [Unrouted(d.shipment, str(d.reason)) for d in routed2.dropped]
    rest = final[len(routed_allocs) :]
    if rest:
        _, reasons = geo_alone_feasibility(routing_problem(scenario, rest, values).problem)
        unrouted += [
            Unrouted(a.id, why or "no_volunteer_capacity")
            for a, why in zip(rest, reasons, strict=True)
        ]
    carried = {sid for r in routes for v in r.visits for sid in v.deliveries}
    metrics = {
        "allocated_value": sum(values.values()),
        "delivered_value": sum(values[a] for a in carried),
        "effort_kg_km": _effort(scenario, final),
        "route_km": sum(r.distance_km for r in routes),
    }
    if metrics["delivered_value"] < plan1.metrics["delivered_value"]:
        return outcome1  # cannot happen with a valid warm start; never lose D
    unmet = _unmet(question, final, alloc.matching)
    plan = Plan(tuple(final), routes, tuple(unrouted), unmet, metrics)
    return SolveOutcome(
        plan,
        alloc.matching,
        routed2,
        time.perf_counter() - started,
        alloc.unit_value,
        len(forbidden),
    )


def _routed_plan(
    scenario: Scenario,
    alloc: AllocationOutcome,
    budget: float,
    workers: int,
    seed: int,
    stage: Stage | None,
) -> tuple[Plan, routing.RoutingResult]:
    """``alloc``'s allocations routed in ``budget`` seconds (a complete plan)."""
    dispatch = routing_problem(scenario, alloc.plan.allocations, alloc.values)
    if stage:
        stage("routing", budget)
    routed = routing.solve(dispatch.problem, day_routing_params(budget, workers), seed=seed)
    routes = plan_routes(dispatch, routed.routes)
    unrouted = tuple(Unrouted(d.shipment, str(d.reason)) for d in routed.dropped)
    carried = {sid for r in routes for v in r.visits for sid in v.deliveries}
    metrics = dict(alloc.plan.metrics)
    metrics["delivered_value"] = sum(alloc.values[a] for a in carried)
    metrics["route_km"] = sum(r.distance_km for r in routes)
    return replace(alloc.plan, routes=routes, unrouted=unrouted, metrics=metrics), routed


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
    reason = {u.need: u.reason.value for u in first.unmet}
    return tuple(
        Unmet(n.id, n.quantity - served[n.id], reason.get(n.id, "outcompeted"))
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


def day_routing_params(time_limit: float, workers: int) -> routing.SolveParams:
    """The routing parameters ``jessr solve`` uses for a day."""
    # VROOM is the day's main search: its exploration level is chosen by
    # size and time (routing.backends.vroom_backend.exploration_level).
    return routing.SolveParams(
        time_limit=time_limit,
        backends=DAY_BACKENDS,
        shares=DAY_SHARES,
        workers=workers,
        vroom_exploration=None,
    )


def _units_per_trip(scenario: Scenario) -> dict[str, int]:
    """Per category, the most units the largest volunteer vehicle can carry.

    Only with volunteers: an allocation above this is split so that it can
    travel in several pieces (0 when even one unit is too heavy).
    """
    if not scenario.volunteers:
        return {}
    biggest = max(v.capacity_kg for v in scenario.volunteers)
    return {c.id: math.floor(biggest / c.weight_kg + 1e-9) for c in scenario.categories.values()}
