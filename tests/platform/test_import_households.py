"""Household identifiers are never stored, printed or archived in clear."""

from __future__ import annotations

import logging

from sqlalchemy import select

from engine.households import pseudonym
from engine.models import Household, Request
from tests.platform.conftest import TEST_HOUSEHOLD_KEY
from tests.platform.factories import make_org
from tests.platform.importfiles import dump, report, write

# Identifiers as organizations type them; the normalised forms are what a leak would show.
IDS = ["07 654 321", "KX-99-1234"]
LEAKS = ["07654321", "07 654 321", "KX-99-1234", "kx991234", "KX991234", "654 321", "654321"]


def test_household_ids_appear_nowhere(database, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with database.session() as s:
        make_org(s, "crt")
        make_org(s, "ados")
        s.commit()
    rows = [
        {"org": "crt", "ref": "R1", "household": IDS[0], "name": "Famille A"},
        {"org": "crt", "ref": "R2", "household": IDS[1], "category": "food.oil"},
    ]
    outputs = []
    for args in ([], ["--commit"], ["--commit", "--json"]):
        result = database.cli(
            "import", "requests", str(write(tmp_path / "a.csv", "requests", rows)), *args
        )
        assert result.code == 0, result
        outputs += [result.out, result.err]
    # Rejected rows: a duplicate at another organization, an ID typed into the name too.
    bad = [
        {"org": "ados", "ref": "X1", "household": "07654321", "name": "07654321"},
        {
            "org": "ados",
            "ref": "X2",
            "household": "kx 99 1234",
            "category": "food.oil",
            "quantity": "0",
        },
        {"org": "ghost", "ref": "X3", "household": IDS[0], "category": "food.milk"},
    ]
    for args in ([], ["--commit"], ["--commit", "--json"]):
        result = database.cli(
            "import", "requests", str(write(tmp_path / "b.csv", "requests", bad)), *args
        )
        assert result.code == 2
        outputs += [result.out, result.err]
    body = report(result)
    assert {e["row"] for e in body["errors"]} == {2, 3, 4}
    assert "crt/R1" in " ".join(e["reason"] for e in body["errors"])
    with database.session() as s:
        stored = dump(s)
        # What is stored instead: the keyed HMAC of the normalised identifier.
        names = set(s.execute(select(Household.pseudonym)).scalars())
        assert names == {pseudonym(TEST_HOUSEHOLD_KEY.encode(), i) for i in IDS}
        assert (
            s.execute(select(Request.name).where(Request.ref == "R1")).scalar_one() == "Famille A"
        )
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for text in [stored, logs, *outputs]:
        for leak in LEAKS:
            assert leak not in text and leak.casefold() not in text.casefold()
    if database.kind == "postgresql":  # the server's own text rendering of every row
        with database.engine.connect() as conn:
            from sqlalchemy import text

            from engine.db.base import Base

            for table in Base.metadata.sorted_tables:
                rows = conn.execute(text(f"SELECT t::text FROM {table.name} AS t")).scalars()
                for line in rows:
                    assert not any(leak.casefold() in line.casefold() for leak in LEAKS)


def test_the_same_family_in_two_organizations_in_one_file(database, tmp_path):
    with database.session() as s:
        make_org(s, "crt")
        make_org(s, "ados")
        s.commit()
    rows = [
        {"org": "crt", "ref": "R1", "household": "A-1234", "filed": "2026-11-20"},
        {"org": "ados", "ref": "R1", "household": "a1234", "filed": "2026-11-25"},
    ]
    result = database.cli(
        "import", "requests", str(write(tmp_path / "a.csv", "requests", rows)), "--commit", "--json"
    )
    [error] = report(result)["errors"]
    assert (error["row"], error["column"], error["value"]) == (3, "household", "(hidden)")
    assert "crt/R1" in error["reason"] and "1234" not in error["reason"]
    assert (
        database.cli(
            "import", "requests", str(write(tmp_path / "b.csv", "requests", rows[:1])), "--commit"
        ).code
        == 0
    )
    result = database.cli(
        "import",
        "requests",
        str(write(tmp_path / "c.csv", "requests", rows[1:])),
        "--commit",
        "--json",
    )
    [error] = report(result)["errors"]
    assert "crt/R1 (filed 2026-11-20" in error["reason"] and error["value"] == "(hidden)"


def test_an_identifier_typed_into_a_stored_column_is_refused(database, tmp_path):
    with database.session() as s:
        make_org(s, "crt")
        s.commit()
    rows = [
        {"ref": "R-07654321", "household": "07 654 321"},
        {"ref": "R2", "household": "07 654 322", "name": "Famille 07654322"},
        {"ref": "R3", "household": "07 654 323", "address": "Cité 07-654-323, Kasserine"},
        {"ref": "R4", "household": "07 654 324", "name": "Famille 12"},  # fine
    ]
    path = write(tmp_path / "a.csv", "requests", rows)
    result = database.cli("import", "requests", str(path), "--commit", "--json")
    errors = report(result)["errors"]
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [
        (2, "ref", "(hidden)"),
        (3, "name", "(hidden)"),
        (4, "address", "(hidden)"),
    ]
    assert "0765432" not in result.out
    path = write(tmp_path / "b.csv", "requests", rows[3:])
    assert database.cli("import", "requests", str(path), "--commit").code == 0
