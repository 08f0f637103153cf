"""Typed, normalised records of the import files, one class per kind.

A record is one valid data row, ready for the database layer: text stripped, codes
normalised (region codes upper case), numbers parsed, dates as :class:`datetime.date`.
Units are those of the exchange format, stated once: coordinates WGS84 decimal
degrees, weights kg, speeds km/h, times of day minutes after midnight (``HH:MM`` in
the file; ``24:00`` is 1440), intervals ``(start, end)`` tuples of such minutes.

Every record keeps ``row``, its spreadsheet row number, so that problems found later
(against the database) are reported like the file's own. Optional cells left empty
are ``None`` (the exchange format's defaults apply downstream), except ``regions``
and ``days``, where an empty cell means "no restriction" / "every day".

A row given by ``address`` only has ``lat``/``lon`` ``None`` until
:func:`engine.imports.places.locate` fills them (``needs_geocoding``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    """A row of an organizations file; identified by ``code``."""

    row: int
    code: str
    name: str
    region: str
    parent: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """The identity a re-import matches on."""
        return (self.code,)


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """A row of a sites file (a warehouse, a distribution point); ``(org, code)``."""

    row: int
    org: str
    code: str
    name: str
    region: str
    lat: float | None
    lon: float | None
    address: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """The identity a re-import matches on."""
        return (self.org, self.code)

    @property
    def needs_geocoding(self) -> bool:
        """Given by address only: coordinates still to be found."""
        return self.lat is None


@dataclass(frozen=True, slots=True)
class LotRecord:
    """A row of an inventory file (a supply lot); ``(org, ref)``.

    The lot's place is either ``site`` (a site code of ``org``; ``lat``, ``lon`` and
    ``region`` are then ``None`` and come from the site) or ``lat``+``lon``+``region``.
    ``regions``: the donor's restriction, sorted region codes; ``None`` for none.
    """

    row: int
    org: str
    ref: str
    category: str
    quantity: int
    site: str | None
    lat: float | None
    lon: float | None
    region: str | None
    expires: date | None = None
    regions: tuple[str, ...] | None = None
    donor: str | None = None
    received: date | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """The identity a re-import matches on."""
        return (self.org, self.ref)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A row of a requests file (one family's need); ``(org, ref)``.

    ``household`` is the identifier as the organization gave it (often a national
    ID), stripped. It must be turned into :func:`engine.households.pseudonym` before
    anything is stored or logged, and is left out of ``repr`` so that a log line or a
    traceback showing the record does not reveal it. ``window`` is ``None`` for the
    whole day; with one bound given, the other is the day's start or end.
    ``name``, ``phone`` and ``address`` are personal data (retention applies).
    """

    row: int
    org: str
    ref: str
    household: str = field(repr=False)
    category: str
    quantity: int
    priority: int
    region: str
    lat: float | None
    lon: float | None
    address: str | None = None
    filed: date | None = None
    window: tuple[int, int] | None = None
    phone: str | None = None
    name: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """The identity a re-import matches on."""
        return (self.org, self.ref)

    @property
    def needs_geocoding(self) -> bool:
        """Given by address only: coordinates still to be found."""
        return self.lat is None


@dataclass(frozen=True, slots=True)
class VolunteerRecord:
    """A row of a volunteers file; ``(org, ref)``.

    ``dates`` and ``weekdays`` (0 = Monday, as :meth:`datetime.date.weekday`) come
    from ``days``; both empty means available every day (:meth:`available_on`).
    ``speed_kmh`` ``None`` means the exchange format's default.
    """

    row: int
    org: str
    ref: str
    name: str
    lat: float
    lon: float
    capacity_kg: float
    shift: tuple[int, int]
    speed_kmh: float | None = None
    phone: str | None = None
    vehicle: str | None = None
    dates: tuple[date, ...] = ()
    weekdays: tuple[int, ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        """The identity a re-import matches on."""
        return (self.org, self.ref)

    def available_on(self, day: date) -> bool:
        """Whether ``days`` includes ``day`` (by date or by weekday); empty: every day."""
        if not self.dates and not self.weekdays:
            return True
        return day in self.dates or day.weekday() in self.weekdays


Record = OrganizationRecord | SiteRecord | LotRecord | RequestRecord | VolunteerRecord


def record_values(record: Record) -> dict[str, object]:
    """The record's stored fields as JSON values, for comparison and the archive.

    Everything but ``row`` (where the record was in the file, not what it says) and a
    request's ``household`` (never stored in clear: the caller adds the pseudonym);
    dates become ISO strings, tuples lists. Two imports of the same row give equal
    dicts, so ``changes(stored, record_values(record))`` tells updated from unchanged
    and gives the audit event's before/after.
    """
    out: dict[str, object] = {}
    for spec in fields(record):
        if spec.name in ("row", "household"):
            continue
        out[spec.name] = _json_value(getattr(record, spec.name))
    return out


def changes(
    before: Mapping[str, object], after: Mapping[str, object]
) -> dict[str, tuple[object, object]]:
    """``{field: (old, new)}`` for every field of ``after`` whose value differs in ``before``.

    A field missing from ``before`` counts as ``None``. Empty: the row is unchanged.
    """
    return {
        name: (before.get(name), value)
        for name, value in after.items()
        if before.get(name) != value
    }


def _json_value(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    return value
