"""The entry services' problems (``engine.entries.Problem``) as translated messages
on the form fields they concern.

The service names each problem by a stable code; this module turns code and
field into a sentence in the page's language. The household identifier is
never part of a message (the services never put it in a problem).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.access import Actor
from engine.entries import Problem
from web.coordinator.forms import EntryForm
from web.labels import number, when

# What a valid value looks like, by import column (the code "invalid").
HINTS: dict[str, Any] = {
    "quantity": _l("Enter a whole number of units, 1 or more."),
    "priority": _l("Choose a priority from 1 to 5."),
    "lat": _l("Enter a latitude in degrees from -90 to 90, with a decimal point (36.8065)."),
    "lon": _l("Enter a longitude in degrees from -180 to 180, with a decimal point (10.1815)."),
    "capacity_kg": _l("Enter a capacity in kilograms, more than 0."),
    "speed_kmh": _l("Enter a speed in km/h from 0.1 to 1000."),
    "expires": _l("Enter a date as YYYY-MM-DD."),
    "filed": _l("Enter a date as YYYY-MM-DD."),
    "received": _l("Enter a date as YYYY-MM-DD."),
    "window_start": _l("Enter a time as HH:MM, from 00:00 to 24:00."),
    "window_end": _l("Enter a time as HH:MM, from 00:00 to 24:00."),
    "shift_start": _l("Enter a time as HH:MM, from 00:00 to 24:00."),
    "shift_end": _l("Enter a time as HH:MM, from 00:00 to 24:00."),
    "phone": _l("Enter a phone number: digits, spaces and + - ( ) . / only, at most 32."),
    "region": _l("Choose a region from the list."),
    "category": _l("Choose a category from the list."),
    "days": _l("Write other dates as YYYY-MM-DD, separated by ';'."),
    "household": _l("Enter the household's identifier (it must contain letters or digits)."),
    "ref": _l("Use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."),
}


def message(problem: Problem, actor: Actor, org_code: str | None) -> str:
    """``problem`` as a sentence in the page's language.

    ``org_code`` is the organization the entry was for: a duplicate request is
    named by its reference only when the user may see it (their own
    organization's, or any for an admin).
    """
    code, params = problem.code, problem.params
    if code == "duplicate_household":
        other = params.get("other")
        filed = params.get("filed")
        days = params.get("days", 0)
        if other and (actor.is_admin or params.get("org_code") == org_code):
            return _(
                "This household already has an open request for this category: %(other)s, "
                "filed %(filed)s (less than %(days)s days apart). A second request is not "
                "accepted.",
                other=other,
                filed=when(filed),
                days=number(days),
            )
        return _(
            "This household already has an open request for this category with another "
            "organization, filed %(filed)s (less than %(days)s days apart). A second request "
            "is not accepted.",
            filed=when(filed),
            days=number(days),
        )
    if code == "missing":
        return _("This field is required.")
    if code == "missing_place":
        return _("Give the latitude and longitude, or an address.")
    if code == "site_and_place":
        return _("Leave the coordinates and the region empty when a site is chosen.")
    if code == "unknown_site":
        return _("Choose one of the organization's sites.")
    if code == "address_not_found":
        return _("This address could not be placed on the map: give the latitude and longitude.")
    if code == "ref_taken":
        return _("This reference is already used in the organization.")
    if code == "bad_code":
        return str(HINTS["ref"])
    if code == "reveals_household":
        return _("This field contains the household identifier, which is never stored: remove it.")
    if code == "order":
        return _("The end must come after the start.")
    if code == "too_long":
        return _("At most %(limit)s characters.", limit=number(params.get("limit")))
    if code == "too_large":
        return _("At most %(limit)s.", limit=number(params.get("limit")))
    hint = HINTS.get(problem.field)
    return str(hint) if hint is not None else _("This value is not valid.")


def show(
    form: EntryForm, problems: Iterable[Problem], actor: Actor, org_code: str | None
) -> list[str]:
    """Put each problem's message on its field; returns those of no field (shown on top)."""
    loose: list[str] = []
    for problem in problems:
        text = message(problem, actor, org_code)
        target = form.field_of(problem.field)
        if target is None:
            loose.append(text)
        elif text not in target.errors:
            target.errors = [*target.errors, text]
    return loose
