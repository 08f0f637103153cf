"""The API's marshmallow schemas: they validate what comes in, shape what goes out,
and flask-smorest writes the OpenAPI document from them (no spec by hand).

Every input is bounded (string lengths, integer ranges, ISO dates), so nothing a
schema admits can reach the database in a form it refuses. The schemas check
types and bounds; the business rules of a request or a donation (a known
category, region, organization and site, the household duplicate rule…) are the
import pipeline's, applied by ``engine.intake``: one rule, one place. Request
bodies refuse unknown fields (a typo is reported, not ignored); query strings
ignore unknown parameters (``?lang=``).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from engine.db.base import as_utc
from engine.deliveries import KEY_PATTERN, MAX_REASON
from engine.imports.validate import MAX_ADDRESS, MAX_NAME, MAX_PHONE
from engine.models.batches import ALLOCATION_STATUSES
from engine.models.deliveries import DELIVERY_KINDS
from engine.models.people import ROLES
from engine.models.requests import REQUEST_STATUSES
from engine.scenario.rules import MAX_QUANTITY, MAX_TEXT_LENGTH

CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # engine.organizations.CODE_PATTERN, as JSON Schema
REGION = r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$"
TIME = r"^[0-9]{1,2}:[0-9]{2}$"
ALLOCATION = r"^[0-9]{1,9}/[A-Za-z0-9._-]{1,32}$"
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
MAX_PAGE = 100_000


def _printable(value: str) -> None:
    """Refuse text the database cannot hold or a line should not contain: a lone
    surrogate (JSON ``"\\ud800"``), NUL and other control characters."""
    for char in value:
        if unicodedata.category(char) in ("Cs", "Cc"):
            raise ValidationError("must be text without control characters")


class Text(fields.String):
    """A string of printable Unicode text, at most ``maximum`` characters."""

    def __init__(self, maximum: int, *, minimum: int = 0, **kwargs: Any) -> None:
        checks = [validate.Length(min=minimum, max=maximum), _printable]
        extra = kwargs.pop("validate", None)
        if extra is not None:
            checks.append(extra)
        super().__init__(validate=checks, **kwargs)


class Utc(fields.DateTime):
    """A timestamp in UTC, ISO 8601 with its offset (SQLite gives naive UTC values)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime):
            value = as_utc(value)
        return super()._serialize(value, attr, obj, **kwargs)


def _code(**kwargs: Any) -> Text:
    return Text(64, minimum=1, validate=validate.Regexp(CODE), **kwargs)


class Body(Schema):
    """A request body: unknown fields are errors."""

    class Meta:
        unknown = RAISE


class Query(Schema):
    """Query parameters: unknown ones (``lang``) are ignored."""

    class Meta:
        unknown = EXCLUDE


# -- errors and the account


class ApiError(Schema):
    """Every error answer (flask-smorest's shape, plus ``detail``)."""

    code = fields.Integer(required=True, metadata={"description": "The HTTP status."})
    status = fields.String(required=True, metadata={"description": "The HTTP status phrase."})
    message = fields.String(
        metadata={"description": "What went wrong, in the request's language (?lang=ar|fr|en)."}
    )
    detail = fields.String(
        metadata={"description": "The specific reason, in English (from the engine)."}
    )
    errors = fields.Dict(
        metadata={
            "description": "Field-level errors by location: "
            '{"json": {"quantity": ["must be a positive integer"]}}.'
        }
    )


class Me(Schema):
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    org = fields.String(allow_none=True, metadata={"description": "The organization's code."})
    volunteer = fields.String(
        allow_none=True, metadata={"description": "ORG/REF of the linked volunteer record."}
    )
    locale = fields.String(allow_none=True)


# -- listings


class PageArgs(Query):
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    page_size = fields.Integer(load_default=50, validate=validate.Range(1, 100))


class PageInfo(Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Items in all pages."})


# -- requests


class RequestIn(Body):
    """A request, as a row of a requests import file (``docs/imports.md``)."""

    org = _code(
        metadata={
            "description": "Organization code; defaults to the account's own (admins: required)."
        }
    )
    ref = _code(required=True, metadata={"description": "The organization's reference."})
    household = Text(
        MAX_TEXT_LENGTH,
        minimum=1,
        required=True,
        load_only=True,
        metadata={
            "description": "The family's identifier as the organization knows it (often a "
            "national ID). Stored only as a keyed pseudonym; never returned."
        },
    )
    category = Text(64, minimum=1, required=True, validate=validate.Regexp(CODE))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_QUANTITY))
    priority = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    region = Text(10, minimum=1, required=True, validate=validate.Regexp(REGION))
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    address = Text(MAX_ADDRESS, metadata={"description": "Geocoded when lat/lon are absent."})
    filed = fields.Date(metadata={"description": "Default: today."})
    window_start = Text(5, validate=validate.Regexp(TIME), metadata={"description": "HH:MM"})
    window_end = Text(5, validate=validate.Regexp(TIME), metadata={"description": "HH:MM"})
    phone = Text(MAX_PHONE)
    name = Text(MAX_NAME)


REQUEST_EXAMPLE = {
    "ref": "R-2026-0042",
    "household": "08123456",
    "category": "food.basket",
    "quantity": 2,
    "priority": 2,
    "region": "TN-11",
    "lat": 36.81,
    "lon": 10.18,
    "window_start": "09:00",
    "window_end": "17:00",
    "phone": "+216 20 000 000",
    "name": "Family Ben Salah",
}


class RequestOut(Schema):
    id = fields.Integer(required=True)
    org = fields.String(required=True)
    ref = fields.String(required=True)
    category = fields.String(required=True)
    quantity = fields.Integer(required=True)
    priority = fields.Integer(required=True)
    region = fields.String(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    address = fields.String(allow_none=True)
    filed = fields.Date(required=True)
    window_start = fields.String(allow_none=True, metadata={"description": "HH:MM"})
    window_end = fields.String(allow_none=True, metadata={"description": "HH:MM"})
    phone = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUSES))
    created_at = Utc(required=True)
    updated_at = Utc(required=True)


class RequestArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    category = Text(64, minimum=1)
    org = _code(metadata={"description": "Admins: one organization's requests."})


class RequestPage(PageInfo):
    items = fields.List(fields.Nested(RequestOut), required=True)


# -- donations (supply lots)


class DonationIn(Body):
    """A donation (supply lot), as a row of an inventory import file."""

    org = _code(
        metadata={
            "description": "Organization code; defaults to the account's own (admins: required)."
        }
    )
    ref = _code(required=True, metadata={"description": "The organization's reference."})
    category = Text(64, minimum=1, required=True, validate=validate.Regexp(CODE))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_QUANTITY))
    site = _code(metadata={"description": "A site code of the organization (or lat/lon/region)."})
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    region = Text(10, minimum=1, validate=validate.Regexp(REGION))
    expires = fields.Date()
    regions = fields.List(
        Text(10, minimum=1, validate=validate.Regexp(REGION)),
        validate=validate.Length(min=1, max=50),
        metadata={"description": "The donor's restriction: the regions the stock may go to."},
    )
    donor = Text(MAX_NAME)
    received = fields.Date()


DONATION_EXAMPLE = {
    "ref": "L-2026-0107",
    "category": "food.basket",
    "quantity": 40,
    "lat": 36.8065,
    "lon": 10.1815,
    "region": "TN-11",
    "donor": "Boulangerie du Centre",
    "received": "2026-11-20",
}


class DonationOut(Schema):
    id = fields.Integer(required=True)
    org = fields.String(required=True)
    ref = fields.String(required=True)
    category = fields.String(required=True)
    quantity = fields.Integer(required=True, metadata={"description": "Units received."})
    reserved = fields.Integer(required=True)
    delivered = fields.Integer(required=True)
    available = fields.Integer(required=True)
    site = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    region = fields.String(allow_none=True)
    expires = fields.Date(allow_none=True)
    regions = fields.List(fields.String(), allow_none=True)
    donor = fields.String(allow_none=True)
    received = fields.Date(allow_none=True)
    created_at = Utc(required=True)
    updated_at = Utc(required=True)


class DonationArgs(PageArgs):
    category = Text(64, minimum=1)
    available = fields.Boolean(metadata={"description": "Only lots with stock left (or none)."})
    org = _code(metadata={"description": "Admins: one organization's lots."})


class DonationPage(PageInfo):
    items = fields.List(fields.Nested(DonationOut), required=True)


# -- batches and routes


class BatchArgs(PageArgs):
    date = fields.Date()


class BatchOut(Schema):
    id = fields.Integer(required=True)
    date = fields.Date(required=True)
    status = fields.String(required=True)
    published_at = Utc(allow_none=True)
    closed_at = Utc(allow_none=True)
    allocations = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Allocations by status."},
    )


class BatchPage(PageInfo):
    items = fields.List(fields.Nested(BatchOut), required=True)


class ItemOut(Schema):
    allocation = fields.String(required=True, metadata={"description": "BATCH/A17"})
    allocation_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ALLOCATION_STATUSES))
    category = fields.String(required=True)
    quantity = fields.Integer(required=True)
    number = fields.Integer(
        allow_none=True, metadata={"description": "Volunteers: the delivery's rank on the round."}
    )
    lot = fields.String(allow_none=True, metadata={"description": "Coordinators: ORG/REF."})
    request = fields.String(allow_none=True, metadata={"description": "Coordinators: ORG/REF."})
    region = fields.String(allow_none=True)
    window = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": 'Coordinators, deliveries: ["HH:MM", "HH:MM"].'},
    )
    contact = fields.Boolean(
        required=True,
        metadata={
            "description": "Volunteers: the household's contact may be revealed now "
            "(POST /allocations/{allocation_id}/contact)."
        },
    )


class StopOut(Schema):
    number = fields.Integer(required=True)
    arrival = fields.String(allow_none=True, metadata={"description": "HH:MM, as planned"})
    region = fields.String(allow_none=True)
    place = fields.String(allow_none=True, metadata={"description": "A pickup site's name."})
    lat = fields.Float(
        allow_none=True,
        metadata={"description": "Volunteers: null for a household outside its contact window."},
    )
    lon = fields.Float(allow_none=True)
    pickups = fields.List(fields.Nested(ItemOut), required=True)
    deliveries = fields.List(fields.Nested(ItemOut), required=True)


class RouteOut(Schema):
    batch = fields.Integer(required=True)
    date = fields.Date(required=True)
    volunteer = fields.String(required=True, metadata={"description": "ORG/REF"})
    volunteer_id = fields.Integer(required=True)
    distance_km = fields.Float(allow_none=True)
    stops = fields.List(fields.Nested(StopOut), required=True)


class RoutesOut(Schema):
    routes = fields.List(fields.Nested(RouteOut), required=True)


class MineArgs(Query):
    date = fields.Date(metadata={"description": "Default: today."})


class MineOut(RoutesOut):
    date = fields.Date(required=True)


# -- delivery reports


class DeliveryIn(Body):
    allocation = Text(
        42,
        validate=validate.Regexp(ALLOCATION),
        metadata={"description": "BATCH/A17, as `jessr batch show ID --plan` names it."},
    )
    allocation_id = fields.Integer(strict=True, validate=validate.Range(1, MAX_ID))
    kind = fields.String(required=True, validate=validate.OneOf(DELIVERY_KINDS))
    reason = Text(MAX_REASON, metadata={"description": "Required when kind is failed."})
    idempotency_key = Text(
        64,
        minimum=8,
        validate=validate.Regexp(f"^{KEY_PATTERN.pattern}$"),
        metadata={
            "description": "The client's key for this report (a UUID): sent again, the "
            "same report is acknowledged (200) and nothing changes."
        },
    )

    @validates_schema
    def _one_allocation(self, data: dict[str, Any], **_: Any) -> None:
        given = [name for name in ("allocation", "allocation_id") if name in data]
        if len(given) != 1:
            raise ValidationError(
                "give exactly one of allocation (BATCH/A17) and allocation_id",
                "allocation",
            )
        if data.get("kind") == "failed" and not (data.get("reason") or "").strip():
            raise ValidationError("required when kind is failed", "reason")


DELIVERY_EXAMPLE = {
    "allocation": "12/A17",
    "kind": "delivered",
    "idempotency_key": "7d0c9a2e-5b1f-4c3e-9a51-0b8f5e2d1c44",
}


class DeliveryOut(Schema):
    allocation = fields.String(required=True, metadata={"description": "BATCH/A17"})
    allocation_id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(ALLOCATION_STATUSES),
        metadata={"description": "The allocation's status now."},
    )
    request_status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUSES))
    quantity = fields.Integer(required=True)
    replayed = fields.Boolean(
        required=True, metadata={"description": "True: an earlier report with this key."}
    )


class ContactOut(Schema):
    allocation_id = fields.Integer(required=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    closes = Utc(required=True, metadata={"description": "Shown until then."})
