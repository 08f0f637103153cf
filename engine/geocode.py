"""Geocoding addresses with a Nominatim service, through a cache.

``JESSR_GEOCODER`` names the service: ``nominatim+https://host[:port][/path]`` or
``nominatim+http://127.0.0.1:PORT`` (:func:`parse_service`); geopy's
:class:`~geopy.geocoders.Nominatim` speaks to it. Every address is looked up in a
:class:`GeocodeCache` first (the database layer implements it with a table; tests
use :class:`MemoryCache`), so an address is asked once, however many imports repeat
it.

What this module promises, as ``shared/spec/platform.md`` asks:

* an address the service does not find is an error with the row's reason
  ``address not found: "…"``; so is a result that only locates a town or a region
  (Nominatim's ``place_rank`` below 19, or a city/town/region place type): **a row is
  never silently put at a town's centre**. Only precise results are cached; an
  address not found is asked again next time (the map may have been completed since);
* with no service configured, every address is an error ``no geocoder configured``;
* a service that fails (timeout, HTTP error, unreachable) is an error
  ``geocoder unavailable: …``; after the first such failure the remaining addresses
  of the run fail at once with the same reason instead of waiting for a timeout each;
* searches are limited to a country (``countrycodes``, default Tunisia ``tn``);
* a service that is not on the loopback interface is called at most once per second
  (geopy's :class:`~geopy.extra.rate_limiter.RateLimiter`; the public Nominatim's
  usage policy), with geopy's retries on transient errors; a local service
  (``127.0.0.1``, ``::1``, ``localhost``) is called without delay and without system
  proxies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim

from engine.scenario.rules import quote

ENV_VAR = "JESSR_GEOCODER"
PREFIX = "nominatim+"
DEFAULT_COUNTRY = "TN"
DEFAULT_TIMEOUT = 10.0  # seconds per request
PUBLIC_DELAY = 1.0  # seconds between requests to a non-local service
USER_AGENT = "jessr (solidarity network dispatch; https://github.com/jessr)"
# Nominatim's place_rank: 16 city, 17-18 town, 19 village, 20+ suburb, street, house.
MIN_PLACE_RANK = 19
_COARSE_TYPES = frozenset(
    {"country", "state", "region", "province", "county", "district", "municipality", "city",
     "town", "administrative"}
)  # fmt: skip


class GeocodeError(ValueError):
    """An address that cannot be placed; ``str()`` is the row's reason."""


@dataclass(frozen=True, slots=True)
class Place:
    """A geocoded address: WGS84 degrees and the service's description of the spot."""

    lat: float
    lon: float
    display_name: str


class GeocodeCache(Protocol):
    """Where found places are kept between runs, keyed by :func:`cache_key`.

    The database layer implements it with a table (``engine/models/geocode.py``).
    ``get`` returns ``None`` for an address never found; ``put`` stores (or replaces)
    a place. Neither commits: the import's transaction does.
    """

    def get(self, key: str) -> Place | None:
        """The cached place for ``key``, or ``None``."""
        ...

    def put(self, key: str, place: Place) -> None:
        """Remember ``place`` for ``key``."""
        ...


class MemoryCache:
    """A :class:`GeocodeCache` in a dict (tests, one-off runs)."""

    def __init__(self) -> None:
        self.places: dict[str, Place] = {}

    def get(self, key: str) -> Place | None:
        """The cached place for ``key``, or ``None``."""
        return self.places.get(key)

    def put(self, key: str, place: Place) -> None:
        """Remember ``place`` for ``key``."""
        self.places[key] = place


@dataclass(frozen=True, slots=True)
class Service:
    """A parsed ``JESSR_GEOCODER`` value: what geopy's Nominatim needs."""

    scheme: str  # "http" or "https"
    domain: str  # host[:port][/path], as geopy's ``domain`` takes it

    @property
    def host(self) -> str:
        """The host name or address, without port or path."""
        return urlsplit(f"{self.scheme}://{self.domain}").hostname or ""

    @property
    def is_local(self) -> bool:
        """On the loopback interface (a test server, a private Nominatim on this machine)."""
        host = self.host
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def parse_service(value: str) -> Service:
    """Parse ``nominatim+https://host`` / ``nominatim+http://127.0.0.1:PORT``.

    ``ValueError`` naming ``JESSR_GEOCODER`` and the expected forms for anything else.
    """
    expected = (
        f"{ENV_VAR} must look like nominatim+https://host or "
        f"nominatim+http://127.0.0.1:PORT, got {quote(value)}"
    )
    if not value.startswith(PREFIX):
        raise ValueError(expected)
    parts = urlsplit(value.removeprefix(PREFIX))
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(expected)
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        raise ValueError(expected) from None
    if not parts.hostname:
        raise ValueError(expected)
    return Service(parts.scheme, parts.netloc + parts.path.rstrip("/"))


def cache_key(address: str, country: str = DEFAULT_COUNTRY) -> str:
    """The cache key of an address: country, then the text with spaces collapsed, folded."""
    return f"{country.lower()}:{' '.join(address.split()).casefold()}"


class Geocoder:
    """Places addresses through ``cache`` and, on a miss, the configured service.

    ``service``: the ``JESSR_GEOCODER`` value (or a parsed :class:`Service`); ``None``
    or empty means none is configured (every miss is ``no geocoder configured``).
    ``ValueError`` at construction for a malformed value.
    """

    def __init__(
        self,
        service: str | Service | None,
        cache: GeocodeCache,
        *,
        country: str = DEFAULT_COUNTRY,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
        min_delay_seconds: float = PUBLIC_DELAY,
    ) -> None:
        self.cache = cache
        self.country = country
        self.service = parse_service(service) if isinstance(service, str) and service else None
        if isinstance(service, Service):
            self.service = service
        self.requests = 0  # searches sent to the service (the cache avoided the rest)
        self._broken: str | None = None  # the reason of the first service failure
        self._search: Callable[..., Any] | None = None
        if self.service is not None:
            local = self.service.is_local
            nominatim = Nominatim(
                domain=self.service.domain,
                scheme=self.service.scheme,
                timeout=timeout,
                user_agent=user_agent,
                # A local service is reached directly: a system proxy (HTTP_PROXY)
                # cannot reach this machine's loopback. None: the system's settings.
                proxies={} if local else None,
            )
            if local:
                self._search = nominatim.geocode
            else:
                self._search = RateLimiter(
                    nominatim.geocode,
                    min_delay_seconds=min_delay_seconds,
                    max_retries=2,
                    error_wait_seconds=5.0,
                    swallow_exceptions=False,
                )

    @property
    def rate_limited(self) -> bool:
        """Whether searches go through geopy's RateLimiter (a non-local service)."""
        return isinstance(self._search, RateLimiter)

    def locate(self, address: str) -> Place:
        """The place of ``address``; :class:`GeocodeError` with the row's reason if none."""
        key = cache_key(address, self.country)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if self._search is None:
            raise GeocodeError("no geocoder configured")
        if self._broken is not None:
            raise GeocodeError(self._broken)
        self.requests += 1
        try:
            found = self._search(
                " ".join(address.split()),
                exactly_one=True,
                country_codes=self.country.lower(),
            )
        except GeopyError as exc:
            self._broken = f"geocoder unavailable: {_one_line(exc)}"
            raise GeocodeError(self._broken) from None
        if found is None:
            raise GeocodeError(f"address not found: {quote(address)}")
        raw = found.raw if isinstance(found.raw, dict) else {}
        if _too_coarse(raw):
            raise GeocodeError(
                f"address not found: {quote(address)} (only a town or region matched: "
                f"{quote(str(found.address))})"
            )
        place = Place(float(found.latitude), float(found.longitude), str(found.address))
        self.cache.put(key, place)
        return place


def _too_coarse(raw: dict[str, Any]) -> bool:
    """Whether a Nominatim result locates only a town, a region or a country."""
    rank = raw.get("place_rank")
    if rank is not None:
        try:
            return int(rank) < MIN_PLACE_RANK
        except (TypeError, ValueError):
            pass
    kind = raw.get("addresstype") or (
        raw.get("type") if raw.get("class") in ("place", "boundary") else None
    )
    return kind in _COARSE_TYPES


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:120] if text else type(exc).__name__
