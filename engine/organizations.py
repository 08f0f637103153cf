"""Services for organizations and their sites (``jessr org add``, ``jessr site add``).

Like every service: take a session and the acting user's name, validate, write,
archive the change; never commit (the operation boundary does).
"""

from __future__ import annotations

import math
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import ConflictError, InputError
from engine.models.reference import Organization, Region, Site

# Codes and refs appear in qualified ids ("ORG/REF", "ID/A17"): no slash, no space.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_code(field: str, value: str) -> str:
    """``value`` if it is a usable code or ref, else an InputError naming ``field``."""
    if not CODE_PATTERN.match(value):
        raise InputError(
            f"{field}: expected 1-64 letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit), got {value!r}"
        )
    return value


def check_region(session: Session, field: str, code: str) -> Region:
    """The region ``code`` (ISO 3166-2, from ``data/``), else an InputError naming ``field``."""
    region = session.get(Region, code)
    if region is None:
        raise InputError(
            f"{field}: unknown region {code!r} (expected an ISO 3166-2 code from data/, e.g. TN-11)"
        )
    return region


def check_coordinates(lat: float, lon: float) -> None:
    """Refuse coordinates outside WGS84 ranges (or not finite)."""
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise InputError(f"lat: expected degrees in [-90, 90], got {lat}")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise InputError(f"lon: expected degrees in [-180, 180], got {lon}")


def get_organization(session: Session, code: str) -> Organization:
    """The organization ``code``, else an InputError."""
    org = session.execute(
        select(Organization).where(Organization.code == code)
    ).scalar_one_or_none()
    if org is None:
        raise InputError(f"org: no organization {code!r}")
    return org


def organization_view(session: Session, org: Organization) -> dict[str, Any]:
    """What the archive records of an organization."""
    parent = session.get(Organization, org.parent_id) if org.parent_id else None
    return {
        "code": org.code,
        "name": org.name,
        "region": org.region_code,
        "parent": parent.code if parent else None,
    }


def add_organization(
    session: Session,
    code: str,
    name: str,
    region: str,
    actor: str,
    parent: str | None = None,
) -> tuple[Organization, bool]:
    """Add organization ``code``; returns ``(org, created)``.

    Adding an organization that exists with the same name, region and parent
    changes nothing (``created`` is False); with other values it is a conflict
    (updates go through ``jessr import organizations``, which archives them).
    """
    check_code("code", code)
    name = name.strip()
    if not name:
        raise InputError("name: must not be empty")
    check_region(session, "region", region)
    parent_org = get_organization(session, parent) if parent else None
    existing = session.execute(
        select(Organization).where(Organization.code == code)
    ).scalar_one_or_none()
    if existing is not None:
        wanted = {"code": code, "name": name, "region": region, "parent": parent}
        if organization_view(session, existing) == wanted:
            return existing, False
        raise ConflictError(
            f"organization {code} already exists with other values; "
            "update it with `jessr import organizations`"
        )
    org = Organization(
        code=code,
        name=name,
        region_code=region,
        parent_id=parent_org.id if parent_org else None,
    )
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor,
        "organization.add",
        "organization",
        org.id,
        after=organization_view(session, org),
    )
    return org, True


def site_view(site: Site, org_code: str) -> dict[str, Any]:
    """What the archive records of a site (an organization's place: not personal data)."""
    return {
        "org": org_code,
        "code": site.code,
        "name": site.name,
        "region": site.region_code,
        "lat": site.lat,
        "lon": site.lon,
        "address": site.address,
    }


def add_site(
    session: Session,
    code: str,
    org: str,
    name: str,
    actor: str,
    lat: float | None = None,
    lon: float | None = None,
    address: str | None = None,
    region: str | None = None,
) -> tuple[Site, bool]:
    """Add site ``code`` of organization ``org``; returns ``(site, created)``.

    The place is ``lat``/``lon`` (an ``address`` may accompany them). An address
    alone would need geocoding, which this command does not do yet: it is refused
    with a line saying so. ``region`` defaults to the organization's region. An
    identical existing site is left unchanged; a different one is a conflict.
    """
    check_code("code", code)
    name = name.strip()
    if not name:
        raise InputError("name: must not be empty")
    owner = get_organization(session, org)
    address = address.strip() if address and address.strip() else None
    if lat is None or lon is None:
        if lat is not None or lon is not None:
            raise InputError("lat/lon: give both --lat and --lon")
        if address is None:
            raise InputError("a site needs --lat and --lon, or --address")
        raise InputError(
            "address: geocoding is not available for `site add`; give --lat and --lon "
            "(the address may accompany them)"
        )
    check_coordinates(lat, lon)
    region = region or owner.region_code
    check_region(session, "region", region)
    existing = session.execute(
        select(Site).where(Site.org_id == owner.id, Site.code == code)
    ).scalar_one_or_none()
    candidate = Site(
        org_id=owner.id, code=code, name=name, region_code=region, lat=lat, lon=lon, address=address
    )
    if existing is not None:
        if site_view(existing, org) == site_view(candidate, org):
            return existing, False
        raise ConflictError(
            f"site {org}/{code} already exists with other values; "
            "update it with `jessr import sites`"
        )
    session.add(candidate)
    session.flush()
    audit.record(session, actor, "site.add", "site", candidate.id, after=site_view(candidate, org))
    return candidate, True
