"""Geocoding on import and ``site add --address``, through the database's cache."""

from __future__ import annotations

from sqlalchemy import select

from engine.geocache import DatabaseCache
from engine.geocode import Place, cache_key
from engine.models import GeocodeCache, Request, Site
from tests.imports.nominatim import FakeNominatim, nominatim  # noqa: F401 -- the fixture
from tests.platform.factories import make_org
from tests.platform.importfiles import report, row_counts, write

ADDRESS = "Rue de Marseille 12, Tunis"


def _with_geocoder(database, monkeypatch, url: str | None) -> None:
    env = database.env()
    if url is not None:
        env["JESSR_GEOCODER"] = url
    monkeypatch.setattr(type(database), "env", lambda self: env)


def test_addresses_are_geocoded_once_and_cached(database, tmp_path, monkeypatch, nominatim):  # noqa: F811
    _with_geocoder(database, monkeypatch, nominatim.url)
    with database.session() as s:
        make_org(s, "crt")
        s.commit()
    rows = [
        {"ref": "R1", "household": "1111", "lat": "", "lon": "", "address": ADDRESS},
        {"ref": "R2", "household": "2222", "lat": "", "lon": "", "address": "Impasse X, Gafsa"},
        {"ref": "R3", "household": "3333", "lat": "", "lon": "", "address": "Sfax"},
    ]
    path = write(tmp_path / "r.csv", "requests", rows)
    body = report(database.cli("import", "requests", str(path), "--commit", "--json"))
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "address"), (4, "address")]
    assert body["errors"][0]["reason"] == 'address not found: "Impasse X, Gafsa"'
    assert "only a town or region" in body["errors"][1]["reason"]  # never a town's centre
    with database.session() as s:
        assert row_counts(s)["geocode_cache"] == 0  # a rejected file keeps nothing
    asked = len(nominatim.queries)
    good = write(tmp_path / "ok.csv", "requests", rows[:1])
    assert database.cli("import", "requests", str(good)).code == 0  # preview: not kept
    assert database.cli("import", "requests", str(good), "--commit").code == 0
    asked_after = len(nominatim.queries)
    assert asked_after == asked + 2
    with database.session() as s:
        request = s.execute(select(Request)).scalar_one()
        assert (request.lat, request.lon, request.address) == (36.8008, 10.1817, ADDRESS)
        [cached] = s.execute(select(GeocodeCache)).scalars()
        assert cached.query == cache_key(ADDRESS) and cached.found
    # Another file, the same address written differently: from the cache.
    again = write(
        tmp_path / "again.csv",
        "requests",
        [{**rows[0], "ref": "R9", "household": "9999", "address": "rue de marseille 12,   TUNIS"}],
    )
    assert database.cli("import", "requests", str(again), "--commit").code == 0
    assert len(nominatim.queries) == asked_after


def test_no_geocoder_configured(database, tmp_path):
    with database.session() as s:
        make_org(s, "crt")
        s.commit()
    rows = [{"code": "W1", "lat": "", "lon": "", "address": ADDRESS}]
    body = report(
        database.cli("import", "sites", str(write(tmp_path / "s.csv", "sites", rows)), "--json")
    )
    assert body["errors"] == [
        {"row": 2, "column": "address", "value": ADDRESS, "reason": "no geocoder configured"}
    ]


def test_site_add_with_an_address(database, monkeypatch, nominatim):  # noqa: F811
    _with_geocoder(database, monkeypatch, nominatim.url)
    assert database.cli("org", "add", "crt", "--name", "CRT", "--region", "TN-11").code == 0
    result = database.cli("site", "add", "d", "--org", "crt", "--name", "D", "--address", ADDRESS)
    assert result.code == 0, result
    with database.session() as s:
        site = s.execute(select(Site)).scalar_one()
        assert (site.lat, site.lon, site.address) == (36.8008, 10.1817, ADDRESS)
    result = database.cli("site", "add", "e", "--org", "crt", "--name", "E", "--address", "Sfax")
    assert result.code == 2 and result.err.startswith('jessr: address: address not found: "Sfax"')
    # A second site at the same address: the cache answers.
    asked = len(nominatim.queries)
    assert (
        database.cli("site", "add", "f", "--org", "crt", "--name", "F", "--address", ADDRESS).code
        == 0
    )
    assert len(nominatim.queries) == asked


def test_database_cache_get_and_put(database):
    with database.session() as s:
        cache = DatabaseCache(s)
        assert cache.get("tn:x") is None
        cache.put("tn:x", Place(1.0, 2.0, "X"))
        cache.put("tn:x", Place(1.5, 2.5, "X2"))  # replaced, not duplicated
        s.commit()
    with database.session() as s:
        assert DatabaseCache(s).get("tn:x") == Place(1.5, 2.5, "X2")
        assert row_counts(s)["geocode_cache"] == 1
