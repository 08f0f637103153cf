"""Business rules of allocation: one passing and one failing case per rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from matching import Lot, MatchingProblem, Need, UnmetReason, solve

DAY = date(2026, 11, 28)
TUNIS = (36.8065, 10.1815)
ARIANA = (36.8625, 10.1956)  # ~6.4 km from Tunis
SFAX = (34.7406, 10.7603)  # ~235 km from Tunis


def need(rid="R1", category="food", qty=1, at=ARIANA, region="TN-12", priority=3, filed=DAY):
    return Need(rid, category, qty, at[0], at[1], region, priority, filed)


def lot(sid="S1", category="food", qty=5, at=TUNIS, expires=None, regions=None):
    return Lot(sid, category, qty, at[0], at[1], expires, regions)


def run(lots, needs, max_km=150.0):
    problem = MatchingProblem(DAY, tuple(lots), tuple(needs), {"food": 15.0, "meds": 0.5}, max_km)
    return solve(problem)


def served(result) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in result.allocations:
        out[a.need] = out.get(a.need, 0) + a.quantity
    return out


def test_same_category_is_eligible():
    assert served(run([lot()], [need()])) == {"R1": 1}


def test_other_category_is_not_eligible():
    result = run([lot(category="meds")], [need()])
    assert result.allocations == ()
    assert result.unmet[0].reason is UnmetReason.NO_SUPPLY


@pytest.mark.parametrize("days", [0, 3])
def test_lot_expiring_today_or_later_is_eligible(days):
    assert served(run([lot(expires=DAY + timedelta(days=days))], [need()])) == {"R1": 1}


def test_expired_lot_is_left_out_with_its_reason():
    result = run([lot(expires=DAY - timedelta(days=1))], [need()])
    assert result.allocations == ()
    assert [e.lot for e in result.excluded_lots] == ["S1"]
    assert result.unmet[0].reason is UnmetReason.NO_SUPPLY


def test_restricted_lot_serves_a_listed_region():
    assert served(run([lot(regions=frozenset({"TN-12"}))], [need()])) == {"R1": 1}


def test_restricted_lot_does_not_serve_other_regions():
    result = run([lot(regions=frozenset({"TN-11"}))], [need(region="TN-12")])
    assert result.allocations == ()
    assert result.unmet[0].reason is UnmetReason.NO_SUPPLY


def test_lot_within_max_distance_is_eligible():
    assert served(run([lot(at=TUNIS)], [need(at=SFAX)], max_km=240.0)) == {"R1": 1}


def test_lot_beyond_max_distance_is_not_eligible():
    result = run([lot(at=TUNIS)], [need(at=SFAX)], max_km=230.0)
    assert result.allocations == ()
    assert result.unmet[0].reason is UnmetReason.NO_SUPPLY


def test_higher_priority_wins_scarce_supply():
    result = run([lot(qty=1)], [need("R1", priority=2), need("R2", priority=4)])
    assert served(result) == {"R2": 1}
    assert (result.unmet[0].need, result.unmet[0].reason) == ("R1", UnmetReason.OUTCOMPETED)


def test_older_request_wins_at_equal_priority():
    old = need("R1", filed=DAY - timedelta(days=20))
    new = need("R2", filed=DAY - timedelta(days=2))
    assert served(run([lot(qty=1)], [new, old])) == {"R1": 1}


def test_age_bonus_is_capped_at_thirty_days():
    # 45 and 31 days both weigh 1.30: the tie is broken by effort (the nearer need).
    far = need("R1", at=SFAX, filed=DAY - timedelta(days=45))
    near = need("R2", at=ARIANA, filed=DAY - timedelta(days=31))
    assert served(run([lot(qty=1)], [far, near], max_km=300.0)) == {"R2": 1}


def test_least_effort_at_equal_value_uses_the_nearer_lot():
    result = run([lot("S1", at=SFAX), lot("S2", at=TUNIS)], [need()], max_km=300.0)
    assert [(a.lot, a.quantity) for a in result.allocations] == [("S2", 1)]


def test_partial_service_reports_the_missing_quantity():
    result = run([lot(qty=2)], [need(qty=5)])
    assert served(result) == {"R1": 2}
    assert (result.unmet[0].quantity, result.unmet[0].reason) == (3, UnmetReason.OUTCOMPETED)


def test_identical_lots_are_split_back_earliest_expiry_first():
    lots = [
        lot("S1", qty=2, expires=DAY + timedelta(days=9)),
        lot("S2", qty=2, expires=DAY + timedelta(days=1)),
    ]
    result = run(lots, [need(qty=3)])
    assert sorted((a.lot, a.quantity) for a in result.allocations) == [("S1", 1), ("S2", 2)]


def test_invalid_problem_data_is_rejected():
    with pytest.raises(ValueError, match="priority"):
        need(priority=6)
    with pytest.raises(ValueError, match="quantity"):
        lot(qty=0)
    with pytest.raises(ValueError, match="max_distance_km"):
        run([lot()], [need()], max_km=0.0)


def _run_with_bans(lots, needs, forbidden):
    problem = MatchingProblem(
        DAY, tuple(lots), tuple(needs), {"food": 15.0}, 150.0, forbidden=frozenset(forbidden)
    )
    return solve(problem)


def test_banned_pair_is_not_used_yet_the_need_counts_as_outcompeted():
    lots = [lot("S1", at=TUNIS), lot("S2", at=SFAX)]
    result = _run_with_bans(lots, [need()], {("S1", "R1")})
    # Sfax is out of the 150 km range, so R1 stays unmet — but as "outcompeted":
    # eligibility itself (the spec's no_supply test) ignores route-aware bans.
    assert result.allocations == ()
    assert result.unmet[0].reason is UnmetReason.OUTCOMPETED


def test_banned_pair_frees_stock_for_another_need():
    result = _run_with_bans([lot(qty=1)], [need("R1", priority=5), need("R2")], {("S1", "R1")})
    assert served(result) == {"R2": 1}


def test_ban_on_one_lot_of_a_depot_bans_its_twins():
    lots = [lot("S1", qty=1), lot("S2", qty=1)]  # same place: interchangeable
    result = _run_with_bans(lots, [need()], {("S1", "R1")})
    assert result.allocations == ()
