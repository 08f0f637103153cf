"""Give coordinates to the rows of a file that name their place by address only."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

from engine.geocode import GeocodeError, Geocoder
from engine.imports.issues import ImportIssue, echo
from engine.imports.records import RequestRecord, SiteRecord

R = TypeVar("R")


def locate(records: Sequence[R], geocoder: Geocoder) -> tuple[list[R], list[ImportIssue]]:
    """Fill ``lat``/``lon`` of site and request records given by ``address`` only.

    Returns the records (those that needed no geocoding unchanged, the located ones
    replaced by a copy with coordinates) and one issue per address that could not be
    placed (column ``address``, the geocoder's reason). A row that was not found is
    left out of the records: the file is rejected anyway, and the report lists it.
    """
    out: list[R] = []
    issues: list[ImportIssue] = []
    for record in records:
        if not isinstance(record, SiteRecord | RequestRecord) or not record.needs_geocoding:
            out.append(record)
            continue
        address = record.address or ""
        try:
            place = geocoder.locate(address)
        except GeocodeError as exc:
            issues.append(ImportIssue(record.row, "address", echo(address), str(exc)))
            continue
        out.append(dataclasses.replace(record, lat=place.lat, lon=place.lon))  # type: ignore[type-var]
    return out, issues
