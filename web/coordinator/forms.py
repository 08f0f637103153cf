"""The coordinator's forms: entering a donation, a request, a volunteer; the filters
of the dashboard and the lists.

The entry forms carry no rule of their own beyond CSRF: their fields are the
import columns, as text, and ``engine.entries`` checks them with the import
pipeline's rules (one place for the rules, the same messages for a file and a
form). Select fields therefore accept any value (``validate_choice=False``):
an unknown category is the pipeline's to refuse, an organization outside the
user's scope the service's.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields import DateField, IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from engine.imports.store import WEEKDAY_NAMES


def optional_int(value: Any) -> int | None:
    """``None`` for an empty choice, else the integer (``ValueError`` otherwise)."""
    if value is None or value == "":
        return None
    return int(value)


class HiddenValueInput(TextInput):
    """A text input that never writes its value back into the page.

    For the household identifier (often a national ID number): when a form
    comes back with an error, the identifier must be typed again rather than
    echoed in the answer.
    """

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        kwargs["value"] = ""
        return super().__call__(field, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as check boxes (the weekdays of a volunteer)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _number(**kw: Any) -> dict[str, Any]:
    # type=text with inputmode: a type=number input would drop "36,8" silently in
    # some browsers, and the pipeline's message explains the decimal point.
    return {"inputmode": "decimal", "autocomplete": "off", **kw}


def _entry_select(label: Any) -> SelectField:
    return SelectField(label, choices=[], validate_choice=False)


class EntryForm(FlaskForm):
    """Fields every entry has: the organization it is for."""

    org = SelectField(
        _l("Organization"),
        coerce=optional_int,
        choices=[],
        validate_choice=False,
        validators=[InputRequired(_l("Choose an organization."))],
    )

    #: form field -> import column, where they differ
    columns: ClassVar[dict[str, str]] = {}
    #: fields that are no import column
    extra: ClassVar[tuple[str, ...]] = ("org", "csrf_token")

    def values(self) -> dict[str, str | None]:
        """The fields as import cells (text; the service strips and checks them)."""
        out: dict[str, str | None] = {}
        for name, item in self._fields.items():
            if name in self.extra:
                continue
            out[self.columns.get(name, name)] = item.data
        return out

    def field_of(self, column: str) -> Any:
        """The form field showing import column ``column`` (None when there is none)."""
        for name, target in self.columns.items():
            if target == column:
                return self._fields.get(name)
        return self._fields.get(column)


class LotForm(EntryForm):
    """A donation: a supply lot."""

    category = _entry_select(_l("Category"))
    quantity = StringField(_l("Quantity (units)"), render_kw=_number(inputmode="numeric"))
    site = SelectField(_l("Site"), choices=[], validate_choice=False)
    lat = StringField(_l("Latitude"), render_kw=_number())
    lon = StringField(_l("Longitude"), render_kw=_number())
    region = _entry_select(_l("Region"))
    expires = StringField(_l("Expires on"), render_kw={"type": "date"})
    donor = StringField(_l("Donor"))
    ref = StringField(_l("Reference (optional)"), render_kw={"autocomplete": "off"})

    extra: ClassVar[tuple[str, ...]] = ("org", "csrf_token", "site")

    def site_id(self) -> int | None:
        """The chosen site's id; ``None`` for none (``ValueError`` for a non-number)."""
        return optional_int(self.site.data)


class RequestForm(EntryForm):
    """A household's request."""

    household = StringField(
        _l("Household identifier"),
        widget=HiddenValueInput(),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    category = _entry_select(_l("Category"))
    quantity = StringField(_l("Quantity (units)"), render_kw=_number(inputmode="numeric"))
    priority = SelectField(
        _l("Priority"),
        choices=[
            SelectChoice("1", _l("1 — lowest")),
            SelectChoice("2", "2"),
            SelectChoice("3", "3"),
            SelectChoice("4", "4"),
            SelectChoice("5", _l("5 — most urgent")),
        ],
        default="3",
        validate_choice=False,
    )
    region = _entry_select(_l("Region"))
    lat = StringField(_l("Latitude"), render_kw=_number())
    lon = StringField(_l("Longitude"), render_kw=_number())
    address = StringField(_l("Address"))
    window_start = StringField(_l("Deliver from"), render_kw={"type": "time"})
    window_end = StringField(_l("Deliver until"), render_kw={"type": "time"})
    phone = StringField(_l("Phone"), render_kw={"type": "tel", "autocomplete": "off"})
    name = StringField(_l("Name"), render_kw={"autocomplete": "off"})
    filed = StringField(_l("Filed on"), render_kw={"type": "date"})
    ref = StringField(_l("Reference (optional)"), render_kw={"autocomplete": "off"})


class VolunteerForm(EntryForm):
    """A volunteer driver."""

    ref = StringField(_l("Reference"), render_kw={"autocomplete": "off"})
    name = StringField(_l("Name"), render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone"), render_kw={"type": "tel", "autocomplete": "off"})
    lat = StringField(_l("Home latitude"), render_kw=_number())
    lon = StringField(_l("Home longitude"), render_kw=_number())
    capacity_kg = StringField(_l("Capacity (kg)"), render_kw=_number())
    shift_start = StringField(_l("Shift starts"), render_kw={"type": "time"}, default="08:00")
    shift_end = StringField(_l("Shift ends"), render_kw={"type": "time"}, default="16:00")
    speed_kmh = StringField(_l("Average speed (km/h, optional)"), render_kw=_number())
    vehicle = StringField(_l("Vehicle"))
    weekdays = MultiCheckboxField(_l("Weekdays"), choices=[], validate_choice=False)
    dates = StringField(_l("Other dates (YYYY-MM-DD, separated by ;)"))

    extra: ClassVar[tuple[str, ...]] = ("org", "csrf_token", "weekdays", "dates")
    columns: ClassVar[dict[str, str]] = {"dates": "days"}

    def values(self) -> dict[str, str | None]:
        out = super().values()
        # ``days`` as an import cell: weekday names and dates, ';'-separated.
        days = [d for d in (self.weekdays.data or []) if d in WEEKDAY_NAMES]
        if self.dates.data:
            days.append(self.dates.data)
        out["days"] = ";".join(days)
        return out


# -- filters (GET query strings: no CSRF, nothing changes)


class QueryForm(FlaskForm):
    """A form read from the query string (``QueryForm(request.args)``): no CSRF token
    (a GET changes nothing), WTForms' own messages translated as a FlaskForm's."""

    class Meta:
        csrf = False

    def __init__(self, args: Any) -> None:
        super().__init__(formdata=args)


class DayFilter(QueryForm):
    date = DateField(_l("Day"), format="%Y-%m-%d", validators=[Optional()])
    org = SelectField(_l("Organization"), coerce=optional_int, choices=[], validate_choice=False)

    def day(self) -> date:
        return self.date.data or date.today()


class ListFilter(QueryForm):
    org = SelectField(_l("Organization"), coerce=optional_int, choices=[], validate_choice=False)
    page = IntegerField(_l("Page"), default=1, validators=[Optional(), NumberRange(min=1)])


class RequestFilter(ListFilter):
    status = SelectField(_l("Status"), default="open", choices=[])
    region = SelectField(_l("Region"), default="", choices=[])
    category = SelectField(_l("Category"), default="", choices=[])


class LotFilter(ListFilter):
    state = SelectField(_l("Stock"), default="available", choices=[])
    region = SelectField(_l("Region"), default="", choices=[])
    category = SelectField(_l("Category"), default="", choices=[])


class VolunteerFilter(ListFilter):
    state = SelectField(_l("Status"), default="active", choices=[])
