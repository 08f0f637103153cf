"""The geocoding cache in the database: :class:`engine.geocode.GeocodeCache` over ``geocode_cache``.

An address is asked of the service once; later imports (and ``jessr site add
--address``) find it in the table. Rows are written in the caller's transaction, so
what an import found is kept only when that import commits: a preview or a rejected
file writes nothing, the cache included (its next run asks the service again).

Only places found are stored (``found`` true): an address the service did not find
is asked again next time, as ``engine.geocode`` promises (the map may have been
completed since).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.db.base import utcnow
from engine.geocode import Geocoder, Place
from engine.models.geocode import GeocodeCache


class DatabaseCache:
    """A :class:`~engine.geocode.GeocodeCache` kept in the ``geocode_cache`` table.

    Keys are :func:`engine.geocode.cache_key` values (country and folded address).
    Neither method commits. Lookups of one run are remembered in memory too, so a
    file naming one address on many rows queries the table once.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._seen: dict[str, Place | None] = {}

    def get(self, key: str) -> Place | None:
        """The cached place for ``key``, or ``None`` (never found, or not yet asked)."""
        if key in self._seen:
            return self._seen[key]
        t = GeocodeCache.__table__
        row = self.session.execute(
            select(t.c.lat, t.c.lon, t.c.display_name).where(t.c.query == key, t.c.found.is_(True))
        ).first()
        place = None
        if row is not None and row.lat is not None and row.lon is not None:
            place = Place(float(row.lat), float(row.lon), row.display_name or "")
        self._seen[key] = place
        return place

    def put(self, key: str, place: Place) -> None:
        """Store (or replace) the place found for ``key``."""
        t = GeocodeCache.__table__
        values = {
            "found": True,
            "lat": place.lat,
            "lon": place.lon,
            "display_name": place.display_name,
            "fetched_at": utcnow(),
        }
        changed = self.session.execute(update(t).where(t.c.query == key).values(**values))
        if changed.rowcount == 0:
            self.session.execute(t.insert().values(query=key, **values))
        self._seen[key] = place


def database_geocoder(session: Session, service: str | None) -> Geocoder:
    """A geocoder for ``service`` (``JESSR_GEOCODER``; ``None``: none configured)
    that caches in the database through ``session``.

    ``engine.errors.InputError`` (one line naming ``JESSR_GEOCODER``) for a malformed
    value.
    """
    from engine.errors import InputError

    try:
        return Geocoder(service, DatabaseCache(session))
    except ValueError as exc:
        raise InputError(str(exc)) from None
