"""Service field errors shown beside their form field, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from engine.errors import FieldError

# FieldError.code -> the message shown (params from FieldError.params).
MESSAGES: dict[str, Any] = {
    "required": _l("This field is required."),
    "too_long": _l("At most %(max)s characters."),
    "bad_code": _l(
        "Use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."
    ),
    "unknown_region": _l("Choose a region from the list."),
    "org_taken": _l("An organization with this code already exists."),
    "unknown_org": _l("No organization has this code."),
    "own_parent": _l("An organization cannot be its own parent."),
    "cycle": _l("This parent would make a cycle: %(chain)s."),
    "both": _l("Give both latitude and longitude."),
    "place_required": _l("Give latitude and longitude, or an address."),
    "no_geocoder": _l(
        "No geocoder is configured, so an address alone cannot be placed: "
        "give latitude and longitude."
    ),
    "not_found": _l("The address could not be placed: %(reason)s"),
    "lat_range": _l("Latitude is between -90 and 90 degrees."),
    "lon_range": _l("Longitude is between -180 and 180 degrees."),
    "site_taken": _l("This organization already has a site with this code."),
    "bad_email": _l("This is not an email address."),
    "bad_role": _l("Choose a role from the list."),
    "volunteer_only": _l("Only a volunteer account is linked to a volunteer."),
    "unknown_volunteer": _l("No such volunteer: give ORG/REF, or REF and the organization."),
    "volunteer_required": _l("A volunteer account needs its volunteer (ORG/REF)."),
    "org_required": _l("A coordinator or staff account belongs to an organization."),
    "short": _l("At least %(min)s characters."),
    "email_taken": _l("An account with this email already exists."),
    "volunteer_taken": _l("This volunteer already has the account %(email)s."),
    "self_disable": _l("You cannot disable your own account."),
    "positive": _l("Give a weight in kilograms above 0."),
    "too_heavy": _l("At most %(max)s kg per unit."),
    "category_taken": _l("A category with this id already exists."),
    "in_use": _l(
        "This category is used by %(lots)s lots and %(requests)s requests: it cannot be deleted."
    ),
    "bad_type": _l("Choose a .csv or .xlsx file."),
    "empty": _l("The file is empty."),
    "unreadable": _l("The file cannot be read: %(reason)s"),
    "bad_kind": _l("Choose what the file holds."),
    "bad_org": _l("Choose an organization from the list."),
}


def message(exc: FieldError) -> str:
    """The translated message of ``exc`` (its English text if the code is unknown)."""
    template = MESSAGES.get(exc.code)
    if template is None:
        return str(exc)
    return str(template) % exc.params if exc.params else str(template)


def show(form: FlaskForm, exc: FieldError) -> None:
    """Attach ``exc`` to its field of ``form``, or flash it when the form has none."""
    field = getattr(form, exc.field, None)
    text = message(exc)
    if field is not None and hasattr(field, "errors"):
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(text)
    else:
        flash(text, "error")
