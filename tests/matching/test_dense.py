"""Dense days (few categories, most lots within reach of most needs) stay exact.

The solver starts from each need's nearest lots and adds pairs priced negative
against the flow's potentials, re-solving warm; these tests make that path
long (tiny starting sets, one pair added per need and round) and check the
result against an independent LP and a plain min-cost flow over every pair.
"""

from __future__ import annotations

import numpy as np
import pytest
from ortools.graph.python import min_cost_flow

import matching.flow
from matching import MatchingProblem, solve
from tests.helpers.matching import assert_optimal, assert_valid, dense_problem
from tests.helpers.reference_lp import eligible_pairs, reference_optimum


def plain_flow_value(problem: MatchingProblem) -> float:
    """Max V by one min-cost flow over every eligible pair (value only, float values)."""
    pairs = eligible_pairs(problem)
    if not pairs:
        return 0.0
    n_lots, n_needs = len(problem.lots), len(problem.needs)
    sink = n_lots + n_needs
    scale = 10**6  # values have at most 2 decimals here: exact as integers
    value = [round(problem.value_per_unit(n) * scale) for n in problem.needs]
    tails = [i for i, _, _ in pairs] + [n_lots + j for j in range(n_needs)] + list(range(n_lots))
    heads = [n_lots + j for _, j, _ in pairs] + [sink] * (n_needs + n_lots)
    caps = [min(problem.lots[i].quantity, problem.needs[j].quantity) for i, j, _ in pairs]
    caps += [n.quantity for n in problem.needs] + [lot.quantity for lot in problem.lots]
    costs = [0] * len(pairs) + [-v for v in value] + [0] * n_lots
    mcf = min_cost_flow.SimpleMinCostFlow()
    arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        np.array(tails), np.array(heads), np.array(caps), np.array(costs)
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_lots] = [lot.quantity for lot in problem.lots]
    supplies[sink] = -supplies[:n_lots].sum()
    mcf.set_nodes_supplies(np.arange(sink + 1), supplies)
    assert mcf.solve() == mcf.OPTIMAL
    flows = np.asarray(mcf.flows(arcs))[len(pairs) : len(pairs) + n_needs]
    return float(np.dot(flows, value)) / scale


@pytest.mark.parametrize(
    ("seed", "n_categories", "initial", "add"),
    [(1, 1, 12, 64), (2, 1, 1, 1), (3, 2, 2, 1), (4, 3, 1, 3), (5, 1, 3, 2)],
)
def test_dense_day_value_is_the_lp_optimum_and_the_plain_flows(
    monkeypatch, seed, n_categories, initial, add
):
    monkeypatch.setattr(matching.flow, "INITIAL_NEIGHBOURS", initial)
    monkeypatch.setattr(matching.flow, "ADD_PER_NEED", add)
    problem = dense_problem(seed, 30, 160, n_categories)
    result = solve(problem)
    assert_valid(problem, result)
    assert_optimal(problem, result)
    assert result.metrics.allocated_value == pytest.approx(plain_flow_value(problem), rel=1e-12)
    if initial < 12:
        assert result.metrics.pricing_rounds > 1  # the warm re-solves were exercised


def test_every_eligible_pair_is_counted_once():
    # Lots at distinct places: merged groups are lots, so the counts must agree.
    problem = dense_problem(7, 40, 200, 2, max_km=90.0)
    live = MatchingProblem(
        problem.date,
        tuple(x for x in problem.lots if x.expires is None),
        problem.needs,
        problem.weight_kg,
        problem.max_distance_km,
    )
    assert solve(live).metrics.eligible_pairs == reference_optimum(live).pairs


@pytest.mark.parametrize("max_km", [0.5, 30.0, 150.0, 3_000.0, 15_000.0])
def test_pair_distances_round_like_the_reference_formula(max_km):
    # The stored costs come from chords of unit vectors; they must round to the
    # same metres as the exchange format's formula (geo.great_circle_km).
    rng = np.random.default_rng(int(max_km))
    n = 4_000
    lat1, lon1 = rng.uniform(-80, 80, n), rng.uniform(-180, 180, n)
    # Second points at up to 1.5 × max_km in a random direction.
    ang = rng.uniform(0, 1.5 * max_km / matching.geo.EARTH_RADIUS_KM, n)
    brg = rng.uniform(0, 2 * np.pi, n)
    la1, lo1 = np.radians(lat1), np.radians(lon1)
    la2 = np.arcsin(np.sin(la1) * np.cos(ang) + np.cos(la1) * np.sin(ang) * np.cos(brg))
    lo2 = lo1 + np.arctan2(
        np.sin(brg) * np.sin(ang) * np.cos(la1), np.cos(ang) - np.sin(la1) * np.sin(la2)
    )
    lat2, lon2 = np.degrees(la2), (np.degrees(lo2) + 540) % 360 - 180
    data = matching.flow.CategoryArrays(
        lot_lat=lat1,
        lot_lon=lon1,
        lot_qty=np.ones(n, np.int64),
        lot_restricted=np.zeros(n, bool),
        lot_allowed=np.zeros((n, 1), bool),
        need_lat=lat2,
        need_lon=lon2,
        need_qty=np.ones(n, np.int64),
        need_region=np.zeros(n, np.int64),
        need_value=np.ones(n, np.int64),
        max_km=max_km,
        forbidden=np.zeros(0, np.int64),
    )
    idx = np.arange(n)
    ours = matching.flow._pair_km(
        data,
        matching.geo.unit_vectors(lat1, lon1),
        matching.geo.unit_vectors(lat2, lon2),
        idx,
        idx,
    )
    ref = matching.geo.great_circle_km(lat1, lon1, lat2, lon2)
    np.testing.assert_array_equal(ours <= max_km, ref <= max_km)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-7)


def test_compiled_potentials_certify_the_same_optimum(monkeypatch):
    # Large models get their potentials from a compiled queue-based
    # Bellman–Ford; force it on a small one and check the certificate holds.
    monkeypatch.setattr(matching.flow, "COMPILED_PATHS_ARCS", 0)
    monkeypatch.setattr(matching.flow, "INITIAL_NEIGHBOURS", 1)
    monkeypatch.setattr(matching.flow, "ADD_PER_NEED", 1)
    problem = dense_problem(8, 30, 160, 2)
    result = solve(problem)
    assert result.metrics.pricing_rounds > 1
    assert_valid(problem, result)
    assert_optimal(problem, result)
