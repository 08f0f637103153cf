"""``solve_scenario``: the pure decision of one day (allocation, then routes).

The same code path serves ``jessr solve`` (a file in, a file out) and, later,
the daily batch (a database snapshot in, persisted plan out).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import matching
import routing
from engine.allocation import matching_problem
from engine.dispatch import plan_routes, routing_problem
from engine.scenario.model import Scenario
from engine.scenario.plan import Plan, PlanAllocation, Unmet, Unrouted

Stage = Callable[[str, float | None], None]  # (stage name, seconds it may take or None)
MIN_ROUTING_SECONDS = 1.0
ASSEMBLY_SECONDS = 0.3  # plan routes + metrics after routing (~0.1 s at 35,000 allocations)


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    """The plan plus the solvers' own results (for summaries and benchmarks)."""

    plan: Plan
    matching: matching.MatchingResult
    routing: routing.RoutingResult | None
    seconds: float
    unit_value: dict[str, float]  # request id -> value of one unit (the spec's w(r))


def solve_scenario(
    scenario: Scenario,
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int = 2,
    stage: Stage | None = None,
) -> SolveOutcome:
    """Allocate supplies to requests exactly, then route the allocations.

    ``time_limit`` bounds the whole call in seconds: the exact allocation takes
    what it needs and routing gets the rest (at least one second).
    """
    started = time.perf_counter()
    if stage:
        stage("allocating", None)
    question = matching_problem(scenario)
    result = matching.solve(question, matching.MatchingParams(workers=workers))
    allocations = tuple(
        PlanAllocation(f"A{k}", a.lot, a.need, a.quantity)
        for k, a in enumerate(result.allocations, 1)
    )
    unmet = tuple(Unmet(u.need, u.quantity, u.reason.value) for u in result.unmet)
    unit_value = {n.id: question.value_per_unit(n) for n in question.needs}
    values = {a.id: unit_value[a.request] * a.quantity for a in allocations}

    routed = None
    routes: tuple = ()
    if not allocations:
        unrouted: tuple[Unrouted, ...] = ()
    elif not scenario.volunteers:
        unrouted = tuple(Unrouted(a.id, "no_volunteers") for a in allocations)
    else:
        dispatch = routing_problem(scenario, allocations, values)
        # Routing gets what is left after building its problem, minus a margin
        # for turning its routes into the plan (result assembly).
        left = time_limit - (time.perf_counter() - started) - ASSEMBLY_SECONDS
        budget = max(MIN_ROUTING_SECONDS, left)
        if stage:
            stage("routing", budget)
        routed = routing.solve(
            dispatch.problem, routing.SolveParams(time_limit=budget, workers=workers), seed=seed
        )
        routes = plan_routes(dispatch, routed.routes)
        unrouted = tuple(Unrouted(d.shipment, str(d.reason)) for d in routed.dropped)

    carried = {sid for r in routes for v in r.visits for sid in v.deliveries}
    metrics = {
        "allocated_value": sum(values.values()),
        "delivered_value": sum(values[a] for a in carried),
        "effort_kg_km": result.metrics.effort_kg_km,
        "route_km": sum(r.distance_km for r in routes),
    }
    plan = Plan(allocations, routes, unrouted, unmet, metrics)
    return SolveOutcome(plan, result, routed, time.perf_counter() - started, unit_value)
