"""Import problems that need the database: each class with a bad row and a good one.

Every file holds at least one good row next to the bad one: the report lists exactly
the bad row (row, column, reason), exit 2, nothing written; the good row alone
imports.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.models import Organization, Request, SupplyLot
from tests.platform.factories import make_household, make_org, make_request, make_site
from tests.platform.importfiles import report, row_counts, write


def _setup(database, *codes: str) -> None:
    with database.session() as s:
        for code in codes or ("crt",):
            org = make_org(s, code)
            make_site(s, org, "W1")
        s.commit()


def _rejected(database, kind: str, path: Path, *args: str) -> list[dict]:
    with database.session() as s:
        before = row_counts(s)
    result = database.cli("import", kind, str(path), "--commit", "--json", *args)
    assert result.code == 2, result
    body = report(result)
    assert body["ok"] is False and body["counts"] == {"new": 0, "updated": 0, "unchanged": 0}
    with database.session() as s:
        assert row_counts(s) == before  # nothing written
    return body["errors"]


def _imported(database, kind: str, path: Path, *args: str) -> dict:
    result = database.cli("import", kind, str(path), "--commit", "--json", *args)
    assert result.code == 0, result
    return report(result)["counts"]


def test_unknown_organization(database, tmp_path):
    _setup(database)
    for kind in ("sites", "inventory", "requests", "volunteers"):
        key = "code" if kind == "sites" else "ref"
        rows = [
            {key: "A1", "household": "111111"},
            {"org": "nope", key: "A2", "household": "22222"},
        ]
        [error] = _rejected(database, kind, write(tmp_path / f"{kind}.csv", kind, rows))
        assert (error["row"], error["column"], error["value"]) == (3, "org", "nope")
        assert "unknown organization" in error["reason"]
        assert (
            _imported(database, kind, write(tmp_path / f"{kind}-ok.csv", kind, rows[:1]))["new"]
            == 1
        )


def test_unknown_parent_and_parent_in_the_same_file(database, tmp_path):
    rows = [
        {"code": "crtk", "parent": "crt"},  # its parent comes later in the file: fine
        {"code": "crt"},
        {"code": "ados", "parent": "ghost"},
    ]
    [error] = _rejected(database, "organizations", write(tmp_path / "o.csv", "organizations", rows))
    assert (error["row"], error["column"], error["value"]) == (4, "parent", "ghost")
    assert "unknown organization" in error["reason"]
    counts = _imported(
        database, "organizations", write(tmp_path / "ok.csv", "organizations", rows[:2])
    )
    assert counts == {"new": 2, "updated": 0, "unchanged": 0}
    with database.session() as s:
        orgs = {o.code: o for o in s.execute(select(Organization)).scalars()}
    assert orgs["crtk"].parent_id == orgs["crt"].id


def test_parent_cycle(database, tmp_path):
    _imported(
        database,
        "organizations",
        write(tmp_path / "o.csv", "organizations", [{"code": "a"}, {"code": "b", "parent": "a"}]),
    )
    # a under b while b is under a (stored): a cycle; c under b is fine.
    rows = [{"code": "c", "parent": "b"}, {"code": "a", "parent": "b"}]
    [error] = _rejected(database, "organizations", write(tmp_path / "c.csv", "organizations", rows))
    assert (error["row"], error["column"], error["value"]) == (3, "parent", "b")
    assert error["reason"] == "parent cycle: a → b → a"
    assert (
        _imported(database, "organizations", write(tmp_path / "ok.csv", "organizations", rows[:1]))[
            "new"
        ]
        == 1
    )


def test_unknown_site(database, tmp_path):
    _setup(database)
    at_site = {"site": "W1", "lat": "", "lon": "", "region": ""}
    rows = [{"ref": "L1", **at_site}, {"ref": "L2", **at_site, "site": "W9"}]
    [error] = _rejected(database, "inventory", write(tmp_path / "i.csv", "inventory", rows))
    assert (error["row"], error["column"], error["value"]) == (3, "site", "W9")
    assert "unknown site of organization crt" in error["reason"]
    assert (
        _imported(database, "inventory", write(tmp_path / "ok.csv", "inventory", rows[:1]))["new"]
        == 1
    )
    with database.session() as s:
        lot = s.execute(select(SupplyLot)).scalar_one()
        assert lot.site_id is not None and lot.lat is None and lot.region_code is None


def test_codes_that_cannot_be_ids(database, tmp_path):
    _setup(database)
    rows = [{"ref": "L-1.a_b"}, {"ref": "L/2"}]
    [error] = _rejected(database, "inventory", write(tmp_path / "i.csv", "inventory", rows))
    assert (error["row"], error["column"], error["value"]) == (3, "ref", "L/2")
    assert "letters, digits" in error["reason"]
    assert (
        _imported(database, "inventory", write(tmp_path / "ok.csv", "inventory", rows[:1]))["new"]
        == 1
    )


def test_duplicate_household_across_organizations(database, tmp_path):
    _setup(database, "crt", "ados")
    first = [{"org": "crt", "ref": "R1", "household": "0812 3456", "filed": "2026-11-20"}]
    assert _imported(database, "requests", write(tmp_path / "a.csv", "requests", first))["new"] == 1
    rows = [
        # Another category, or filed 14 days later: a new need (good rows).
        {"org": "ados", "ref": "X1", "household": "08123456", "category": "food.oil"},
        {"org": "ados", "ref": "X2", "household": "08-123-456", "filed": "2026-12-04"},
        # The same family and category, 12 days earlier, at another organization.
        {"org": "ados", "ref": "X3", "household": "٠٨١٢٣٤٥٦", "filed": "2026-11-08"},
    ]
    [error] = _rejected(database, "requests", write(tmp_path / "b.csv", "requests", rows))
    assert (error["row"], error["column"], error["value"]) == (4, "household", "(hidden)")
    assert "crt/R1" in error["reason"] and "food.basket" in error["reason"]
    assert "0812" not in error["reason"] and "3456" not in error["reason"]
    assert (
        _imported(database, "requests", write(tmp_path / "ok.csv", "requests", rows[:2]))["new"]
        == 2
    )


def test_a_closed_request_is_no_duplicate(database, tmp_path):
    _setup(database, "crt", "ados")
    first = [{"org": "crt", "ref": "R1", "filed": "2026-11-20"}]
    _imported(database, "requests", write(tmp_path / "a.csv", "requests", first))
    again = [{"org": "ados", "ref": "X1", "filed": "2026-11-21"}]
    path = write(tmp_path / "b.csv", "requests", again)
    assert "crt/R1" in _rejected(database, "requests", path)[0]["reason"]
    with database.session() as s:
        s.execute(update(Request).values(status="delivered"))
        s.commit()
    assert _imported(database, "requests", path)["new"] == 1


def test_quantity_below_what_is_reserved_and_delivered(database, tmp_path):
    _setup(database)
    rows = [{"ref": "L1", "quantity": "40"}, {"ref": "L2", "quantity": "40"}]
    _imported(database, "inventory", write(tmp_path / "a.csv", "inventory", rows))
    with database.session() as s:
        s.execute(
            update(SupplyLot)
            .where(SupplyLot.ref == "L2")
            .values(quantity_reserved=10, quantity_delivered=15)
        )
        s.commit()
    rows = [{"ref": "L1", "quantity": "5"}, {"ref": "L2", "quantity": "24"}]
    [error] = _rejected(database, "inventory", write(tmp_path / "b.csv", "inventory", rows))
    assert (error["row"], error["column"], error["value"]) == (3, "quantity", "24")
    assert "25 units" in error["reason"] and "10 reserved, 15 delivered" in error["reason"]
    rows[1]["quantity"] = "25"  # exactly what is used: allowed
    counts = _imported(database, "inventory", write(tmp_path / "c.csv", "inventory", rows))
    assert counts == {"new": 0, "updated": 2, "unchanged": 0}


def test_only_open_requests_change(database, tmp_path):
    _setup(database)
    rows = [{"ref": "R1", "household": "1111"}, {"ref": "R2", "household": "2222"}]
    path = write(tmp_path / "a.csv", "requests", rows)
    _imported(database, "requests", path)
    with database.session() as s:
        s.execute(update(Request).where(Request.ref == "R2").values(status="allocated"))
        s.commit()
    assert _imported(database, "requests", path)["unchanged"] == 2  # unchanged: fine
    rows = [
        {"ref": "R1", "household": "1111", "quantity": "2"},
        {"ref": "R2", "household": "2222", "quantity": "2"},
    ]
    [error] = _rejected(database, "requests", write(tmp_path / "b.csv", "requests", rows))
    assert (error["row"], error["column"]) == (3, "ref")
    assert "is allocated" in error["reason"]
    assert (
        _imported(database, "requests", write(tmp_path / "c.csv", "requests", rows[:1]))["updated"]
        == 1
    )


def test_another_household_key_is_refused(database, tmp_path, monkeypatch):
    _setup(database)
    path = write(tmp_path / "a.csv", "requests", [{"ref": "R1"}])
    _imported(database, "requests", path)
    other = dict(database.env(), JESSR_HOUSEHOLD_KEY="another-key")
    monkeypatch.setattr(type(database), "env", lambda self: other)
    result = database.cli(
        "import",
        "requests",
        str(write(tmp_path / "b.csv", "requests", [{"ref": "R2"}])),
        "--commit",
    )
    assert result.code == 2 and "JESSR_HOUSEHOLD_KEY" in result.err
    with database.session() as s:
        assert s.execute(select(Request.ref)).scalars().all() == ["R1"]


def test_stored_requests_with_factories_count_as_pending(database, tmp_path):
    """The rule reads what other parts of the platform store, not only imports."""
    _setup(database)
    from engine.households import pseudonym
    from engine.models import Household
    from tests.platform.conftest import TEST_HOUSEHOLD_KEY

    with database.session() as s:
        org = s.execute(select(Organization)).scalar_one()
        name = pseudonym(TEST_HOUSEHOLD_KEY.encode(), "A-77")
        household = Household(pseudonym=name)
        s.add(household)
        s.flush()
        make_request(s, org, "OLD", household=household, filed=__import__("datetime").date.today())
        make_household(s, "unrelated")
        s.commit()
    rows = [{"ref": "NEW", "household": "a 77", "filed": ""}]
    [error] = _rejected(database, "requests", write(tmp_path / "a.csv", "requests", rows))
    assert "crt/OLD" in error["reason"]


@pytest.mark.parametrize("kind", ["inventory", "volunteers"])
def test_org_option_fills_the_column(database, tmp_path, kind):
    _setup(database)
    path = write(tmp_path / "a.csv", kind, [{"ref": "A1"}], drop=("org",))
    assert _imported(database, kind, path, "--org", "crt")["new"] == 1
