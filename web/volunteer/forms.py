"""The volunteer's forms: a delivery mark (posted by a form or as JSON) and availability."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from engine.deliveries import KEY_PATTERN

MARKS = {
    "picked_up": _l("Picked up"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
}
# Why a pickup or a delivery failed: a code (stored, translated when shown) and an
# optional note. The note asks for no names or phone numbers: it is archived.
FAIL_REASONS = {
    "nobody_home": _l("Nobody at home"),
    "address_not_found": _l("Address not found"),
    "refused": _l("Refused by the household"),
    "no_access": _l("The place could not be reached"),
    "not_at_pickup": _l("Not available at the pickup place"),
    "damaged": _l("Goods damaged"),
    "vehicle": _l("Vehicle problem"),
    "other": _l("Other reason (write it below)"),
}
# The reasons each stop offers (the service accepts any of them).
PICKUP_REASONS = ("not_at_pickup", "damaged", "vehicle", "other")
DELIVERY_REASONS = (
    "nobody_home",
    "address_not_found",
    "refused",
    "no_access",
    "damaged",
    "vehicle",
    "other",
)
MAX_NOTE = 500


def choices(labels: Mapping[str, Any]) -> list[SelectChoice]:
    """``{value: label}`` as WTForms choices."""
    return [SelectChoice(value, label) for value, label in labels.items()]


def form_data(body: Any) -> MultiDict[str, str] | None:
    """A JSON object as form data (scalars as text); None when ``body`` is not an object."""
    if not isinstance(body, Mapping):
        return None
    data: MultiDict[str, str] = MultiDict()
    for key, value in body.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float | type(None)):
            continue  # nested values and booleans fit no field: left out, then required
        data[str(key)] = "" if value is None else str(value)
    return data


class MarkForm(FlaskForm):
    """One mark on one allocation. CSRFProtect checks the token of every POST (form
    field or ``X-CSRFToken`` header), so the form does not check it twice."""

    class Meta:
        csrf = False

    allocation = IntegerField(_l("Delivery"), validators=[DataRequired()])
    kind = SelectField(_l("Mark"), choices=choices(MARKS), validators=[DataRequired()])
    reason = SelectField(
        _l("Reason"),
        choices=[SelectChoice("", _l("Choose a reason")), *choices(FAIL_REASONS)],
        default="",
    )
    note = TextAreaField(_l("Note (no names or phone numbers)"), validators=[Length(max=MAX_NOTE)])
    idempotency_key = HiddenField(
        validators=[Optional(), Regexp(KEY_PATTERN.pattern, message=_l("Not a valid key."))]
    )
    date = DateField(validators=[Optional()])

    def validate_reason(self, field: Any) -> None:
        if self.kind.data == "failed" and not field.data:
            raise ValidationError(_l("Choose why it failed."))

    def validate_note(self, field: Any) -> None:
        if (
            self.kind.data == "failed"
            and self.reason.data == "other"
            and not (field.data or "").strip()
        ):
            raise ValidationError(_l("Write the reason."))

    def reason_text(self) -> str | None:
        """What the delivery report stores: the reason code, and the note after it."""
        if self.kind.data != "failed":
            return None
        note = " ".join((self.note.data or "").split())
        return f"{self.reason.data}: {note}" if note else self.reason.data


class AvailabilityForm(FlaskForm):
    """The coming days the volunteer can drive (the choices are set per request)."""

    days = SelectMultipleField(
        _l("Days I can drive"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
