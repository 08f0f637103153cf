"""The short human summary ``jessr solve`` prints (to stdout)."""

from __future__ import annotations

from collections import Counter, defaultdict

from engine.scenario.model import Scenario
from engine.solve import SolveOutcome


def summarize(scenario: Scenario, outcome: SolveOutcome, region_names: dict[str, str]) -> str:
    """Value served vs need, by priority; least and best served regions; unmet by reason."""
    plan, res = outcome.plan, outcome.matching
    unit_value = outcome.unit_value
    need_value: dict[int, float] = defaultdict(float)
    served_value: dict[int, float] = defaultdict(float)
    region_need: dict[str, float] = defaultdict(float)
    region_served: dict[str, float] = defaultdict(float)
    for r in scenario.requests:
        need_value[r.priority] += unit_value[r.id] * r.quantity
        region_need[r.region] += unit_value[r.id] * r.quantity
    priority_of = {r.id: r.priority for r in scenario.requests}
    region_of = {r.id: r.region for r in scenario.requests}
    for a in plan.allocations:
        v = unit_value[a.request] * a.quantity
        served_value[priority_of[a.request]] += v
        region_served[region_of[a.request]] += v

    total_need = sum(need_value.values())
    lines = [
        f"Plan for {scenario.date.isoformat()}: {len(scenario.requests)} requests, "
        f"{len(scenario.supplies)} supply lots, {len(scenario.volunteers)} volunteers",
        f"Allocated value {plan.metrics['allocated_value']:.1f} of {total_need:.1f} needed "
        f"({_pct(plan.metrics['allocated_value'], total_need)}) in {len(plan.allocations)} "
        f"allocations; effort {plan.metrics['effort_kg_km']:.0f} kg·km "
        f"[{_allocation_tag(outcome)}]",
        "By priority (5 = most urgent):",
    ]
    for p in sorted(need_value, reverse=True):
        lines.append(
            f"  P{p}: {served_value[p]:10.1f} of {need_value[p]:10.1f} "
            f"({_pct(served_value[p], need_value[p])})"
        )
    shares = sorted(
        (region_served[g] / region_need[g], g) for g in region_need if region_need[g] > 0
    )
    if shares:

        def name(code: str) -> str:
            return f"{region_names.get(code, code)} ({code})"

        least = ", ".join(f"{name(g)} {s:.0%}" for s, g in shares[:3])
        best = ", ".join(f"{name(g)} {s:.0%}" for s, g in reversed(shares[-3:]))
        lines.append(f"Least served regions: {least}")
        lines.append(f"Best served regions:  {best}")
    reasons = Counter(u.reason for u in plan.unmet)
    units = Counter()
    for u in plan.unmet:
        units[u.reason] += u.quantity
    if reasons:
        lines.append(
            "Unmet: "
            + ", ".join(f"{k} {reasons[k]} requests ({units[k]} units)" for k in sorted(reasons))
        )
    else:
        lines.append("Unmet: none")
    if res.excluded_lots:
        lines.append(f"Lots left out as expired: {len(res.excluded_lots)}")
    lines.extend(_routing_lines(outcome))
    return "\n".join(lines)


def _routing_lines(outcome: SolveOutcome) -> list[str]:
    plan = outcome.plan
    dropped = Counter(u.reason for u in plan.unrouted)
    if outcome.routing is None:
        if dropped:
            why = ", ".join(f"{k} {n}" for k, n in sorted(dropped.items()))
            return [f"Routing: not run; {len(plan.unrouted)} allocations unrouted ({why})"]
        return []
    m = plan.metrics
    lines = [
        f"Delivered value {m['delivered_value']:.1f} of {m['allocated_value']:.1f} allocated "
        f"({_pct(m['delivered_value'], m['allocated_value'])}); "
        f"{len(plan.routes)} volunteers used, {m['route_km']:.1f} road km "
        f"[{outcome.routing.status.value}, {outcome.routing.metrics.backend}, "
        f"{outcome.routing.metrics.seconds:.1f} s]",
    ]
    if dropped:
        lines.append(
            "Unrouted allocations: " + ", ".join(f"{k} {n}" for k, n in sorted(dropped.items()))
        )
    return lines


def _allocation_tag(outcome: SolveOutcome) -> str:
    """How the allocation was decided: exact, or traded for delivered value."""
    if outcome.banned_pairs:
        return (
            f"route-aware: stock of {outcome.banned_pairs} undelivered pairs re-allocated, "
            "exact in each round"
        )
    return f"{outcome.matching.status.value}, {outcome.matching.metrics.seconds:.1f} s"


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole > 0 else "n/a"
