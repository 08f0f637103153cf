"""A small file reads only its own records (by key), a large one its organizations'
whole: both tell new, updated and unchanged rows apart alike, and store the same ids.

The threshold is ``engine.imports.store._FEW`` rows; the single records of the API
(``engine.intake``) take the small path.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.imports import store
from engine.models import SupplyLot
from tests.platform.factories import make_org, make_site
from tests.platform.importfiles import report, write


def test_small_and_large_files_count_and_store_alike(database, tmp_path, monkeypatch):
    with database.session() as s:
        make_site(s, make_org(s, "crt"), "W1")
        s.commit()
    monkeypatch.setattr(store, "_FEW", 5)  # a 12-row file is "large", a 3-row one "small"
    large = write(
        tmp_path / "large.csv",
        "inventory",
        [{"ref": f"L{i:02d}", "quantity": str(10 + i)} for i in range(12)],
    )
    done = database.cli("import", "inventory", str(large), "--commit", "--json")
    assert report(done)["counts"] == {"new": 12, "updated": 0, "unchanged": 0}
    small = write(
        tmp_path / "small.csv",
        "inventory",
        [
            {"ref": "L03", "quantity": "13"},  # unchanged
            {"ref": "L04", "quantity": "99"},  # updated
            {"ref": "N01", "quantity": "7"},  # new
        ],
    )
    done = database.cli("import", "inventory", str(small), "--commit", "--json")
    assert report(done)["counts"] == {"new": 1, "updated": 1, "unchanged": 1}
    again = database.cli("import", "inventory", str(large), "--json")
    assert report(again)["counts"] == {"new": 0, "updated": 1, "unchanged": 11}
    with database.session() as s:
        lots = {lot.ref: lot.quantity_received for lot in s.execute(select(SupplyLot)).scalars()}
    assert len(lots) == 13 and lots["L04"] == 99 and lots["N01"] == 7
