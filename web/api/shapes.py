"""Engine records as the API shows them (dicts the response schemas dump).

Codes stand in for internal ids of related records (``org`` ``crt``, ``site``
``depot``, ``volunteer`` ``crt/V1``); a request never shows its household.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import Any

from sqlalchemy import select

from engine.access import Actor
from engine.imports.store import minutes_of
from engine.intake import org_codes, shows_personal
from engine.models import Request, Site, SupplyLot, User, Volunteer
from web.db import db_session


def clock(value: time | None) -> str | None:
    """A stored time of day as ``HH:MM`` (the end of the day is ``24:00``)."""
    if value is None:
        return None
    minutes = minutes_of(value)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def me_view(user: User) -> dict[str, Any]:
    session = db_session()
    org = org_codes(session, [user.org_id]).get(user.org_id) if user.org_id else None
    volunteer = None
    if user.volunteer_id is not None:
        row = session.get(Volunteer, user.volunteer_id)
        if row is not None:
            volunteer = f"{org_codes(session, [row.org_id])[row.org_id]}/{row.ref}"
    return {
        "email": user.email,
        "role": user.role,
        "org": org,
        "volunteer": volunteer,
        "locale": user.locale,
    }


def request_views(rows: Sequence[Request], actor: Actor) -> list[dict[str, Any]]:
    """Requests as shown to ``actor``: the family's name, phone and address only to the
    request's own organization (:func:`engine.intake.shows_personal`)."""
    codes = org_codes(db_session(), [r.org_id for r in rows])
    return [_request_view(r, codes[r.org_id], shows_personal(actor, r.org_id)) for r in rows]


def _request_view(r: Request, org: str, personal: bool) -> dict[str, Any]:
    return {
        "id": r.id,
        "org": org,
        "ref": r.ref,
        "category": r.category_id,
        "quantity": r.quantity,
        "priority": r.priority,
        "region": r.region_code,
        "lat": r.lat,
        "lon": r.lon,
        "address": r.address if personal else None,
        "filed": r.filed,
        "window_start": clock(r.window_start),
        "window_end": clock(r.window_end),
        "phone": r.phone if personal else None,
        "name": r.name if personal else None,
        "status": r.status,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def lot_views(rows: Sequence[SupplyLot]) -> list[dict[str, Any]]:
    session = db_session()
    codes = org_codes(session, [lot.org_id for lot in rows])
    site_ids = {lot.site_id for lot in rows if lot.site_id is not None}
    sites: dict[int, str] = {}
    if site_ids:
        sites = dict(session.execute(select(Site.id, Site.code).where(Site.id.in_(site_ids))).all())
    return [
        {
            "id": lot.id,
            "org": codes[lot.org_id],
            "ref": lot.ref,
            "category": lot.category_id,
            "quantity": lot.quantity_received,
            "reserved": lot.quantity_reserved,
            "delivered": lot.quantity_delivered,
            "available": lot.quantity_available,
            "site": sites.get(lot.site_id) if lot.site_id is not None else None,
            "lat": lot.lat,
            "lon": lot.lon,
            "region": lot.region_code,
            "expires": lot.expires,
            "regions": list(lot.regions) if lot.regions else None,
            "donor": lot.donor,
            "received": lot.received_on,
            "created_at": lot.created_at,
            "updated_at": lot.updated_at,
        }
        for lot in rows
    ]
