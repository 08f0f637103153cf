"""``matching.solve``: allocate lots to needs, exactly, category by category."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import date

import numpy as np

from matching.flow import CategoryArrays, CategoryFlow, solve_category
from matching.problem import MAX_AGE_BONUS_DAYS, MatchingProblem
from matching.result import (
    Allocation,
    ExcludedLot,
    LotExclusion,
    MatchingResult,
    Metrics,
    Status,
    UnmetNeed,
    UnmetReason,
)
from matching.value import cost_scale, scaled_values

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class MatchingParams:
    """Solver parameters.

    ``parallel_min_needs``: below this many needs the categories are solved
    in-process even when an executor is given (handing arrays to another
    process costs more than it saves on small days).
    """

    parallel_min_needs: int = 20_000

    def __post_init__(self) -> None:
        if self.parallel_min_needs < 0:
            raise ValueError(f"expected parallel_min_needs >= 0, got {self.parallel_min_needs}")


def solve(
    problem: MatchingProblem,
    params: MatchingParams | None = None,
    progress: Progress | None = None,
    *,
    executor: Executor | None = None,
) -> MatchingResult:
    """Allocate: maximise allocated value V, then minimise effort E (exact).

    Categories are independent problems: with an ``executor`` (e.g. a process
    pool the caller owns) they are solved on it, largest first; without one,
    in this process, one after the other. Deterministic: the same problem gives
    the same allocations either way.
    """
    params = params or MatchingParams()
    started = time.perf_counter()
    lots, needs = problem.lots, problem.needs
    excluded = tuple(
        ExcludedLot(lot.id, LotExclusion.EXPIRED)
        for lot in lots
        if lot.expires is not None and lot.expires < problem.date
    )
    expired = {e.lot for e in excluded}
    live = [i for i, lot in enumerate(lots) if lot.id not in expired]

    regions = sorted({n.region for n in needs})
    region_index = {r: i for i, r in enumerate(regions)}
    categories = sorted({n.category for n in needs})
    lots_by_cat: dict[str, list[int]] = {c: [] for c in categories}
    for i in live:
        if lots[i].category in lots_by_cat:
            lots_by_cat[lots[i].category].append(i)
    needs_by_cat: dict[str, list[int]] = {c: [] for c in categories}
    for j, n in enumerate(needs):
        needs_by_cat[n.category].append(j)

    priorities = np.fromiter((n.priority for n in needs), dtype=np.int64, count=len(needs))
    ages = np.fromiter(
        (min(max((problem.date - n.filed).days, 0), MAX_AGE_BONUS_DAYS) for n in needs),
        dtype=np.int64,
        count=len(needs),
    )
    values = scaled_values(priorities, ages, problem.priority_weights)
    value_float = np.array([problem.value_per_unit(n) for n in needs], dtype=np.float64)

    jobs = {
        c: _category_arrays(problem, lots_by_cat[c], needs_by_cat[c], region_index, values)
        for c in categories
    }
    for c, job in jobs.items():  # refuse weights beyond exact 64-bit costs before any flow
        if len(job.lot_qty) and len(job.need_qty):
            cost_scale(
                int(job.need_value.max()), job.max_km, len(job.lot_qty), len(job.need_qty), c
            )
    flows = _run(jobs, params, len(needs), progress, executor)

    allocations: list[Allocation] = []
    unmet: list[UnmetNeed] = []
    by_category: dict[str, Metrics] = {}
    total_value = total_effort = total_need = 0.0
    pairs = arcs = rounds = 0
    for c in categories:
        flow = flows[c]
        groups = _lot_groups(problem, lots_by_cat[c])
        need_ids = needs_by_cat[c]
        served = np.zeros(len(need_ids), dtype=np.int64)
        np.add.at(served, flow.need_index, flow.quantity)
        allocations.extend(_split_groups(problem, groups, need_ids, flow))
        idx = np.asarray(need_ids, dtype=np.int64)
        qty = np.array([needs[j].quantity for j in need_ids], dtype=np.int64)
        for local in np.flatnonzero(served < qty):
            reason = UnmetReason.OUTCOMPETED if flow.has_eligible[local] else UnmetReason.NO_SUPPLY
            unmet.append(
                UnmetNeed(needs[need_ids[local]].id, int(qty[local] - served[local]), reason)
            )
        v = float(np.sum(value_float[idx[flow.need_index]] * flow.quantity)) if len(idx) else 0.0
        e = float(np.sum(flow.quantity * flow.distance_km)) * problem.weight_kg[c]
        need_v = float(np.sum(value_float[idx] * qty)) if len(idx) else 0.0
        by_category[c] = Metrics(
            v, e, need_v, flow.eligible_pairs, flow.candidate_arcs, flow.pricing_rounds, 0.0
        )
        total_value += v
        total_effort += e
        total_need += need_v
        pairs += flow.eligible_pairs
        arcs += flow.candidate_arcs
        rounds = max(rounds, flow.pricing_rounds)

    metrics = Metrics(
        allocated_value=total_value,
        effort_kg_km=total_effort,
        total_need_value=total_need,
        eligible_pairs=pairs,
        candidate_arcs=arcs,
        pricing_rounds=rounds,
        seconds=time.perf_counter() - started,
    )
    status = Status.OPTIMAL if allocations or pairs else Status.EMPTY
    return MatchingResult(status, tuple(allocations), tuple(unmet), excluded, metrics, by_category)


def _lot_groups(problem: MatchingProblem, lot_idx: list[int]) -> list[list[int]]:
    """Interchangeable lots: same place and same donor restriction (category is given).

    Merging them is exact (any split of a group's flow is equally good) and
    shrinks the model a lot, since donations sit in a few depots per organisation.
    """
    # A lot named in an excluded pair stays alone: its ban must not reach the others.
    alone = {lot for lot, _ in problem.excluded}
    groups: dict[tuple[float, float, frozenset[str] | None, str | None], list[int]] = {}
    for i in lot_idx:
        lot = problem.lots[i]
        key = (lot.lat, lot.lon, lot.regions, lot.id if lot.id in alone else None)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _split_groups(
    problem: MatchingProblem, groups: list[list[int]], need_ids: list[int], flow: CategoryFlow
) -> list[Allocation]:
    """Hand each group's flow back to its lots, earliest-expiring first (then by id)."""
    out: list[Allocation] = []
    order = np.lexsort((flow.need_index, flow.lot_index))
    remaining: dict[int, int] = {}
    for k in order:
        members = groups[flow.lot_index[k]]
        need = problem.needs[need_ids[flow.need_index[k]]]
        left = int(flow.quantity[k])
        for i in sorted(members, key=lambda i: (problem.lots[i].expires or date.max, i)):
            have = remaining.setdefault(i, problem.lots[i].quantity)
            if have == 0:
                continue
            take = min(have, left)
            remaining[i] = have - take
            left -= take
            out.append(Allocation(problem.lots[i].id, need.id, take, float(flow.distance_km[k])))
            if left == 0:
                break
    return out


def _category_arrays(
    problem: MatchingProblem,
    lot_idx: list[int],
    need_idx: list[int],
    region_index: dict[str, int],
    values: np.ndarray,
) -> CategoryArrays:
    groups = _lot_groups(problem, lot_idx)
    lots = [problem.lots[g[0]] for g in groups]
    forbidden = _forbidden_keys(problem, groups, need_idx)
    needs = [problem.needs[j] for j in need_idx]
    allowed = np.zeros((len(lots), max(1, len(region_index))), dtype=bool)
    restricted = np.zeros(len(lots), dtype=bool)
    for k, lot in enumerate(lots):
        if lot.regions is not None:
            restricted[k] = True
            for r in lot.regions:
                if r in region_index:
                    allowed[k, region_index[r]] = True
    return CategoryArrays(
        lot_lat=np.array([x.lat for x in lots], dtype=np.float64),
        lot_lon=np.array([x.lon for x in lots], dtype=np.float64),
        lot_qty=np.array(
            [sum(problem.lots[i].quantity for i in g) for g in groups], dtype=np.int64
        ),
        lot_restricted=restricted,
        lot_allowed=allowed,
        need_lat=np.array([x.lat for x in needs], dtype=np.float64),
        need_lon=np.array([x.lon for x in needs], dtype=np.float64),
        need_qty=np.array([x.quantity for x in needs], dtype=np.int64),
        need_region=np.array([region_index[x.region] for x in needs], dtype=np.int64),
        need_value=values[np.asarray(need_idx, dtype=np.int64)],
        max_km=problem.max_distance_km,
        forbidden=forbidden,
    )


def _forbidden_keys(
    problem: MatchingProblem, groups: list[list[int]], need_idx: list[int]
) -> np.ndarray:
    """Banned (lot, need) pairs (forbidden or excluded) as sorted keys
    ``need * n_groups + group``.

    A ban on one lot of a group bans the group: its lots are interchangeable
    (same place, category and restriction), so what makes one undeliverable
    makes all of them undeliverable.
    """
    if not problem.forbidden and not problem.excluded:
        return np.zeros(0, dtype=np.int64)
    group_of = {problem.lots[i].id: g for g, members in enumerate(groups) for i in members}
    local = {problem.needs[j].id: k for k, j in enumerate(need_idx)}
    keys = {
        local[n] * len(groups) + group_of[lot]
        for lot, n in problem.forbidden | problem.excluded
        if lot in group_of and n in local
    }
    return np.array(sorted(keys), dtype=np.int64)


def _run(
    jobs: dict[str, CategoryArrays],
    params: MatchingParams,
    n_needs: int,
    progress: Progress | None,
    executor: Executor | None,
) -> dict[str, CategoryFlow]:
    """Solve categories, largest first, on the executor or in-process."""
    order = sorted(jobs, key=lambda c: -len(jobs[c].need_qty) * max(1, len(jobs[c].lot_qty)))
    out: dict[str, CategoryFlow] = {}
    if executor is not None and n_needs >= params.parallel_min_needs and len(jobs) > 1:
        futures: dict[str, Future[CategoryFlow]] = {}
        for c in order:
            try:
                futures[c] = executor.submit(solve_category, jobs[c])
            except Exception:  # a broken or shut-down executor: the rest here
                break
        for done, c in enumerate(order, 1):
            future = futures.get(c)
            try:
                out[c] = future.result() if future is not None else solve_category(jobs[c])
            except Exception:  # its worker failed: the same category here (exact either way)
                out[c] = solve_category(jobs[c])
            if progress:
                progress("allocating", done, len(order))
        return out
    for done, c in enumerate(order, 1):
        out[c] = solve_category(jobs[c])
        if progress:
            progress("allocating", done, len(order))
    return out
