"""The ORM models, one module per aggregate; importing this package registers them all.

| module | tables |
|---|---|
| ``reference`` | ``regions``, ``categories``, ``organizations``, ``sites`` |
| ``people`` | ``users``, ``volunteers``, ``households`` |
| ``supplies`` | ``supply_lots`` |
| ``requests`` | ``requests`` |
| ``batches`` | ``batches``, ``allocations`` |
| ``deliveries`` | ``deliveries`` |
| ``audit`` | ``audit_events``, ``audit_head`` |
| ``geocode`` | ``geocode_cache`` |
| ``instance`` | ``instance_settings`` |
| ``accounts`` | ``user_sessions``, ``api_tokens``, ``login_links`` |
| ``jobs`` | ``jobs`` |
| ``adjustments`` | ``plan_adjustments`` |
"""

from engine.models.accounts import ApiToken, LoginLink, UserSession
from engine.models.adjustments import PlanAdjustment
from engine.models.audit import AuditEvent, AuditHead
from engine.models.batches import Allocation, Batch
from engine.models.deliveries import Delivery
from engine.models.geocode import GeocodeCache
from engine.models.instance import InstanceSetting
from engine.models.jobs import Job
from engine.models.people import Household, User, Volunteer
from engine.models.reference import Category, Organization, Region, Site
from engine.models.requests import Request
from engine.models.supplies import SupplyLot

__all__ = [
    "Allocation",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Batch",
    "Category",
    "Delivery",
    "GeocodeCache",
    "Household",
    "InstanceSetting",
    "Job",
    "LoginLink",
    "Organization",
    "PlanAdjustment",
    "Region",
    "Request",
    "Site",
    "SupplyLot",
    "User",
    "UserSession",
    "Volunteer",
]
