"""The admin forms. They parse what the browser sends (numbers, choices, the file);
the rules (codes, regions, roles, uniqueness…) are the services', reported back as
field errors (``web.admin.fields``), so the command line and the web agree."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

KINDS = ("organizations", "sites", "inventory", "requests", "volunteers")


def kind_choices() -> list[tuple[str, Any]]:
    return [
        ("organizations", _l("Organizations")),
        ("sites", _l("Sites")),
        ("inventory", _l("Inventory (supply lots)")),
        ("requests", _l("Requests")),
        ("volunteers", _l("Volunteers")),
    ]


def role_choices() -> list[tuple[str, Any]]:
    return [
        ("staff", _l("Staff")),
        ("coordinator", _l("Coordinator")),
        ("volunteer", _l("Volunteer")),
        ("admin", _l("Admin")),
    ]


def parse_number(text: str | None) -> float | None:
    """A number typed in a form (``36.8`` or ``36,8``), None when empty."""
    if text is None or not text.strip():
        return None
    return float(text.strip().replace(",", ".").replace("\u2212", "-"))


class Number:
    """A text field that must hold a number when filled."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        try:
            value = parse_number(field.data)
        except ValueError:
            raise ValidationError(_l("Enter a number, such as 36.8065.")) from None
        if value is not None and value != value:  # NaN
            raise ValidationError(_l("Enter a number, such as 36.8065."))


class ImportForm(FlaskForm):
    kind = SelectField(_l("The file holds"), choices=kind_choices, validate_choice=False)
    org = SelectField(
        _l("Organization of rows without an org column"), choices=[], validate_choice=False
    )
    file = FileField(_l("File (.csv or .xlsx)"))

    def validate_kind(self, field: Any) -> None:
        if field.data not in KINDS:
            raise ValidationError(_l("Choose what the file holds."))


class CommitForm(FlaskForm):
    upload = HiddenField()


class OrganizationForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=64)])
    name = StringField(_l("Name"), validators=[Length(max=300)])
    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    parent = SelectField(_l("Parent organization"), choices=[], validate_choice=False)


class SiteForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=64)])
    name = StringField(_l("Name"), validators=[Length(max=300)])
    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    lat = StringField(_l("Latitude"), validators=[Optional(), Length(max=32), Number()])
    lon = StringField(_l("Longitude"), validators=[Optional(), Length(max=32), Number()])
    address = StringField(_l("Address"), validators=[Length(max=500)])


class UserForm(FlaskForm):
    email = StringField(_l("Email"), validators=[Length(max=320)])
    role = SelectField(_l("Role"), choices=role_choices, validate_choice=False)
    org = SelectField(_l("Organization"), choices=[], validate_choice=False)
    volunteer = StringField(_l("Volunteer (ORG/REF)"), validators=[Length(max=130)])
    password = PasswordField(_l("Initial password"), validators=[Length(max=1000)])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[Length(max=1000)])


class ActiveForm(FlaskForm):
    """The enable/disable button (the URL says which)."""


class CategoryForm(FlaskForm):
    id = StringField(_l("Id"), validators=[Length(max=64)])
    name_ar = StringField(_l("Name in Arabic"), validators=[Length(max=200)])
    name_fr = StringField(_l("Name in French"), validators=[Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Length(max=64)])
    weight_kg = StringField(
        _l("Weight of one unit (kg)"), validators=[Optional(), Length(max=32), Number()]
    )
    perishable = BooleanField(_l("Perishable"))

    def names(self) -> dict[str, str]:
        return {"ar": self.name_ar.data or "", "fr": self.name_fr.data or "",
                "en": self.name_en.data or ""}  # fmt: skip


class DeleteForm(FlaskForm):
    """The delete button."""


class TraceForm(FlaskForm):
    class Meta:
        csrf = False  # a GET look-up: changes nothing

    kind = SelectField(
        _l("Record"),
        choices=lambda: [("lot", _l("Supply lot")), ("request", _l("Request"))],
        validate_choice=False,
    )
    ref = StringField(_l("ORG/REF"), validators=[Length(max=130)])


class ArchiveSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: changes nothing

    entity_type = SelectField(_l("Record type"), choices=[], validate_choice=False)
    entity = StringField(_l("Record (id, ORG/REF, code or email)"), validators=[Length(max=320)])
    actor = StringField(_l("By (email or cli:name)"), validators=[Length(max=320)])
    action = StringField(_l("Action (e.g. lot.update, or lot)"), validators=[Length(max=100)])
    since = StringField(_l("From (YYYY-MM-DD)"), validators=[Length(max=10)])
    until = StringField(_l("To (YYYY-MM-DD)"), validators=[Length(max=10)])
