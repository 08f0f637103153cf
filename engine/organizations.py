"""Services for organizations and their sites (``jessr org add``, ``jessr site add``,
the admin pages).

Like every service: take a session and the acting user's name, validate, write,
archive the change; never commit (the operation boundary does). The functions
taking an :class:`~engine.access.Actor` are the web's: they check the actor's role
and report bad input as :class:`~engine.errors.FieldError` (one field, one reason)
before writing through the same code as the command line.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.errors import ConflictError, FieldError, InputError, NotFound
from engine.models.reference import Organization, Region, Site

if TYPE_CHECKING:
    from engine.geocode import Geocoder

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


# -- the admin pages' services (an Actor, field errors)

CODE_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def _code_field(field: str, value: str) -> str:
    value = value.strip()
    if not CODE_PATTERN.match(value):
        raise FieldError(field, "bad_code", f"expected {CODE_RULE}, got {value!r}")
    return value


def _name_field(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise FieldError("name", "required", "must not be empty")
    if len(value) > 300:
        raise FieldError("name", "too_long", "at most 300 characters", max=300)
    return value


def _region_field(session: Session, value: str) -> str:
    if session.get(Region, value) is None:
        raise FieldError("region", "unknown_region", f"unknown region {value!r}", value=value)
    return value


def _find_org(session: Session, code: str) -> Organization | None:
    return session.execute(
        select(Organization).where(Organization.code == code)
    ).scalar_one_or_none()


def list_organizations(session: Session, actor: Actor) -> list[Organization]:
    """The organizations ``actor`` may see (an admin: all), by code."""
    query = select(Organization).order_by(Organization.code)
    if not actor.is_admin:
        query = query.where(Organization.id == actor.org_id)
    return list(session.execute(query).scalars())


def organization_of(session: Session, actor: Actor, code: str) -> Organization:
    """The organization ``code``, if ``actor`` may see it; else :class:`NotFound`."""
    org = _find_org(session, code)
    if org is None or not actor.sees_org(org.id):
        raise NotFound("no such organization")
    return org


def create_organization(
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    region: str,
    parent: str | None = None,
) -> Organization:
    """Add organization ``code`` (admin); an existing code is a field error, not a no-op."""
    require_role(actor, "admin")
    code = _code_field("code", code)
    name = _name_field(name)
    region = _region_field(session, region)
    parent = parent.strip() if parent and parent.strip() else None
    if _find_org(session, code) is not None:
        raise FieldError("code", "org_taken", f"organization {code} already exists", value=code)
    if parent is not None and _find_org(session, parent) is None:
        raise FieldError("parent", "unknown_org", f"no organization {parent!r}", value=parent)
    org, _created = add_organization(session, code, name, region, actor.label, parent)
    return org


def update_organization(
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    region: str,
    parent: str | None = None,
) -> Organization:
    """Change the name, region or parent of organization ``code`` (admin).

    The code is not changed: it is part of every ``ORG/REF`` id the data and the
    archive use. A parent that is the organization itself or one of its own
    descendants (a cycle) is refused. One ``organization.update`` event names the
    changed fields before and after; a form that changes nothing writes nothing.
    """
    require_role(actor, "admin")
    org = organization_of(session, actor, code)
    name = _name_field(name)
    region = _region_field(session, region)
    parent = parent.strip() if parent and parent.strip() else None
    parent_org = None
    if parent is not None:
        parent_org = _find_org(session, parent)
        if parent_org is None:
            raise FieldError("parent", "unknown_org", f"no organization {parent!r}", value=parent)
        if parent_org.id == org.id:
            raise FieldError("parent", "own_parent", "an organization cannot be its own parent")
        chain = [org.code, parent_org.code]
        current = parent_org
        while current.parent_id is not None:
            above = session.get(Organization, current.parent_id)
            if above is None:
                break
            chain.append(above.code)
            if above.id == org.id:
                raise FieldError(
                    "parent", "cycle", "parent cycle: " + " → ".join(chain), chain=" → ".join(chain)
                )
            current = above
    before = organization_view(session, org)
    org.name, org.region_code = name, region
    org.parent_id = parent_org.id if parent_org else None
    after = organization_view(session, org)
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        return org
    session.flush()
    audit.record(
        session,
        actor.label,
        "organization.update",
        "organization",
        org.id,
        before={"code": org.code, **{key: before[key] for key in changed}},
        after={"code": org.code, **{key: after[key] for key in changed}},
    )
    return org


def list_sites(session: Session, actor: Actor, org: Organization) -> list[Site]:
    """The sites of ``org`` (within ``actor``'s scope), by code."""
    if not actor.sees_org(org.id):
        raise NotFound("no such organization")
    return list(
        session.execute(select(Site).where(Site.org_id == org.id).order_by(Site.code)).scalars()
    )


def create_site(
    session: Session,
    actor: Actor,
    org: str,
    code: str,
    name: str,
    region: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    address: str | None = None,
    geocoder: Geocoder | None = None,
) -> Site:
    """Add site ``code`` of organization ``org`` (admin).

    The place is ``lat`` and ``lon``, or an ``address`` placed by ``geocoder`` (the
    configured ``JESSR_GEOCODER``; without one an address alone is a field error
    saying so). ``region`` defaults to the organization's.
    """
    from engine.geocode import GeocodeError

    require_role(actor, "admin")
    owner = organization_of(session, actor, org)
    code = _code_field("code", code)
    name = _name_field(name)
    region = _region_field(session, region) if region else owner.region_code
    address = " ".join(address.split()) if address and address.strip() else None
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise FieldError(missing, "both", "give both latitude and longitude")
    if lat is None or lon is None:
        if address is None:
            raise FieldError("lat", "place_required", "give latitude and longitude, or an address")
        if geocoder is None or geocoder.service is None:
            raise FieldError(
                "address", "no_geocoder", "no geocoder configured (JESSR_GEOCODER): give lat/lon"
            )
        try:
            place = geocoder.locate(address)
        except GeocodeError as exc:
            raise FieldError("address", "not_found", str(exc), reason=str(exc)) from None
        lat, lon = place.lat, place.lon
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise FieldError("lat", "lat_range", f"expected degrees in [-90, 90], got {lat}")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise FieldError("lon", "lon_range", f"expected degrees in [-180, 180], got {lon}")
    taken = session.execute(
        select(Site.id).where(Site.org_id == owner.id, Site.code == code)
    ).first()
    if taken is not None:
        raise FieldError("code", "site_taken", f"site {org}/{code} already exists", value=code)
    site, _created = add_site(
        session, code, owner.code, name, actor.label, lat, lon, address, region
    )
    return site
