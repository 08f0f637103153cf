"""The columns of each import file, as ``shared/spec/platform.md`` (Imports) states them.

Header names are exact (lower case, no aliases: ``latitude`` is not ``lat``), in any
order; columns not listed here are ignored. ``required`` columns must be in the
header; ``places`` lists the alternative groups that give a row's place, one of which
must be complete in the header (``lat``+``lon`` or ``address``; for inventory
``site`` or ``lat``+``lon``+``region``); ``optional`` columns may be absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The five import files (``jessr import KIND FILE``)."""

    ORGANIZATIONS = "organizations"
    SITES = "sites"
    INVENTORY = "inventory"
    REQUESTS = "requests"
    VOLUNTEERS = "volunteers"


@dataclass(frozen=True, slots=True)
class Schema:
    """The columns of one kind of file, and the columns that identify a row."""

    kind: Kind
    required: tuple[str, ...]
    places: tuple[tuple[str, ...], ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]  # a row's identity: (org, ref), (org, code) or (code,)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the kind reads, each once, in the spec's order."""
        seen: dict[str, None] = dict.fromkeys(self.required)
        for group in self.places:
            seen.update(dict.fromkeys(group))
        seen.update(dict.fromkeys(self.optional))
        return tuple(seen)


HOUSEHOLD = "household"  # never echoed in a report: often a national ID number

SCHEMAS: dict[Kind, Schema] = {
    Kind.ORGANIZATIONS: Schema(
        kind=Kind.ORGANIZATIONS,
        required=("code", "name", "region"),
        places=(),
        optional=("parent",),
        key=("code",),
    ),
    Kind.SITES: Schema(
        kind=Kind.SITES,
        required=("org", "code", "name", "region"),
        places=(("lat", "lon"), ("address",)),
        optional=(),
        key=("org", "code"),
    ),
    Kind.INVENTORY: Schema(
        kind=Kind.INVENTORY,
        required=("org", "ref", "category", "quantity"),
        places=(("site",), ("lat", "lon", "region")),
        optional=("expires", "regions", "donor", "received"),
        key=("org", "ref"),
    ),
    Kind.REQUESTS: Schema(
        kind=Kind.REQUESTS,
        required=("org", "ref", HOUSEHOLD, "category", "quantity", "priority", "region"),
        places=(("lat", "lon"), ("address",)),
        optional=("filed", "window_start", "window_end", "phone", "name"),
        key=("org", "ref"),
    ),
    Kind.VOLUNTEERS: Schema(
        kind=Kind.VOLUNTEERS,
        required=(
            "org",
            "ref",
            "name",
            "lat",
            "lon",
            "capacity_kg",
            "shift_start",
            "shift_end",
        ),
        places=(),
        optional=("speed_kmh", "phone", "vehicle", "days"),
        key=("org", "ref"),
    ),
}


def schema(kind: Kind | str) -> Schema:
    """The schema of ``kind``; ``ValueError`` naming the kinds for an unknown one."""
    try:
        return SCHEMAS[Kind(kind)]
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown import kind {kind!r} (expected one of: {known})") from None
