"""Geocoding against a local server that answers /search as Nominatim does."""

from __future__ import annotations

import pytest

from engine.geocode import (
    GeocodeError,
    Geocoder,
    MemoryCache,
    Place,
    Service,
    cache_key,
    parse_service,
)
from tests.imports.nominatim import FakeNominatim


def test_found_address_is_cached(nominatim: FakeNominatim) -> None:
    cache = MemoryCache()
    geocoder = Geocoder(nominatim.url, cache, timeout=5)
    assert not geocoder.rate_limited  # loopback: no one-second delay
    place = geocoder.locate("Rue de Marseille 12,  Tunis")
    assert place == Place(36.8008, 10.1817, "12, Rue de Marseille, Tunis, Tunisie")
    [query] = nominatim.queries
    assert query["q"] == ["Rue de Marseille 12, Tunis"]
    assert query["countrycodes"] == ["tn"]
    assert query["format"] == ["json"]
    # The same address again, written differently: from the cache, no second request.
    assert geocoder.locate("rue de marseille 12, TUNIS") == place
    assert len(nominatim.queries) == 1 and geocoder.requests == 1
    # Another geocoder sharing the cache (the next import) asks nothing either.
    assert Geocoder(nominatim.url, cache).locate("Rue de Marseille 12, Tunis") == place
    assert len(nominatim.queries) == 1
    assert cache.get(cache_key("Rue de Marseille 12, Tunis")) == place


def test_unknown_address_is_not_found(nominatim: FakeNominatim) -> None:
    cache = MemoryCache()
    geocoder = Geocoder(nominatim.url, cache)
    with pytest.raises(GeocodeError) as caught:
        geocoder.locate("Impasse Inconnue 99, Gafsa")
    assert str(caught.value) == 'address not found: "Impasse Inconnue 99, Gafsa"'
    assert cache.places == {}


def test_a_town_is_never_taken_for_an_address(nominatim: FakeNominatim) -> None:
    geocoder = Geocoder(nominatim.url, MemoryCache())
    with pytest.raises(GeocodeError, match=r'address not found: "Sfax" \(only a town or region'):
        geocoder.locate("Sfax")
    # Without place_rank, the result's type decides: a hamlet is precise enough.
    assert geocoder.locate("Douar Ouled Ali").lat == 35.1


def test_no_geocoder_configured() -> None:
    cache = MemoryCache()
    cache.put(cache_key("Rue de Rome, Tunis"), Place(36.8, 10.18, "Rue de Rome"))
    geocoder = Geocoder(None, cache)
    assert geocoder.locate("Rue de Rome, Tunis").lat == 36.8  # cached earlier
    with pytest.raises(GeocodeError, match=r"^no geocoder configured$"):
        geocoder.locate("Rue de Marseille 12, Tunis")
    with pytest.raises(GeocodeError, match=r"^no geocoder configured$"):
        Geocoder("", cache).locate("Rue de Marseille 12, Tunis")


def test_failing_service_fails_each_address_once(nominatim: FakeNominatim) -> None:
    geocoder = Geocoder(nominatim.url, MemoryCache())
    with pytest.raises(GeocodeError, match=r"^geocoder unavailable: "):
        geocoder.locate("boom")
    with pytest.raises(GeocodeError, match=r"^geocoder unavailable: "):
        geocoder.locate("Rue de Marseille 12, Tunis")  # not asked: the service is down
    assert len(nominatim.queries) == 1


def test_unreachable_service() -> None:
    # Port 9 (discard) on loopback: nothing listens there in a test environment.
    geocoder = Geocoder("nominatim+http://127.0.0.1:9", MemoryCache(), timeout=2)
    with pytest.raises(GeocodeError, match=r"^geocoder unavailable: "):
        geocoder.locate("Rue de Marseille 12, Tunis")


OSM = "nominatim.openstreetmap.org"


@pytest.mark.parametrize(
    ("value", "service", "local"),
    [
        (f"nominatim+https://{OSM}", Service("https", OSM), False),
        ("nominatim+http://127.0.0.1:8080", Service("http", "127.0.0.1:8080"), True),
        ("nominatim+http://localhost:7070/osm/", Service("http", "localhost:7070/osm"), True),
        ("nominatim+http://[::1]:7070", Service("http", "[::1]:7070"), True),
        ("nominatim+https://geo.example.tn:8443", Service("https", "geo.example.tn:8443"), False),
    ],
)
def test_parse_service(value: str, service: Service, local: bool) -> None:
    assert parse_service(value) == service
    assert service.is_local is local


@pytest.mark.parametrize(
    "value",
    [
        "https://nominatim.openstreetmap.org",
        "nominatim+ftp://host",
        "nominatim+http://",
        "nominatim+http://host:port",
        "nominatim+https://host/search?q=x",
        "photon+https://host",
    ],
)
def test_malformed_service_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="JESSR_GEOCODER must look like nominatim"):
        parse_service(value)


def test_a_public_service_is_rate_limited() -> None:
    geocoder = Geocoder("nominatim+https://nominatim.openstreetmap.org", MemoryCache())
    assert geocoder.rate_limited  # one request per second: Nominatim's usage policy
