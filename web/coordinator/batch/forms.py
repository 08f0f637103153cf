"""The batch pages' forms: run a date, adjust an allocation, clear an adjustment,
publish (the last ones carry little more than their CSRF token)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from engine.jobs import DEFAULT_ITERATIONS, MAX_ITERATIONS, MAX_TIME_LIMIT

# WTForms' own messages for values it cannot parse, listed here so that this
# catalogue translates them (Flask-WTF asks the app's catalogues for them).
WTFORMS_MESSAGES = (
    _l("Not a valid integer value."),
    _l("Not a valid date value."),
    _l("Not a valid choice."),
)
MAX_SEED = 2**31 - 1


class RunForm(FlaskForm):
    """Run the day's batch: a date, a budget (iterations or seconds), a seed."""

    date = DateField(
        _l("Date"),
        validators=[InputRequired(message=_l("Give the date to plan."))],
        default=date.today,
    )
    budget = RadioField(
        _l("Budget"),
        choices=[
            SelectChoice("iterations", _l("Iterations (the same plan on any machine)")),
            SelectChoice("time", _l("Time limit in seconds")),
        ],
        default="iterations",
        validators=[InputRequired(message=_l("Choose a budget."))],
    )
    iterations = IntegerField(
        _l("Iterations"),
        default=DEFAULT_ITERATIONS,
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_ITERATIONS,
                message=_l("Between %(min)s and %(max)s iterations."),
            ),
        ],
    )
    time_limit = IntegerField(
        _l("Time limit (seconds)"),
        default=60,
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=int(MAX_TIME_LIMIT),
                message=_l("Between %(min)s and %(max)s seconds."),
            ),
        ],
    )
    seed = IntegerField(
        _l("Seed"),
        default=0,
        validators=[
            InputRequired(message=_l("Give a seed (0 if unsure).")),
            NumberRange(min=0, max=MAX_SEED, message=_l("A whole number from 0.")),
        ],
    )

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        """The budget chosen needs its value."""
        ok = super().validate(extra_validators)
        if self.budget.data == "iterations" and self.iterations.data is None:
            self.iterations.errors = [*self.iterations.errors, _l("Give the iterations.")]
            ok = False
        if self.budget.data == "time" and self.time_limit.data is None:
            self.time_limit.errors = [*self.time_limit.errors, _l("Give the time limit.")]
            ok = False
        return ok


class AdjustForm(FlaskForm):
    """Exclude or pin one allocation of a draft (the button pressed gives ``kind``)."""

    allocation = HiddenField(
        validators=[DataRequired(message=_l("Name the allocation.")), Length(max=32)]
    )
    kind = HiddenField(
        validators=[
            DataRequired(message=_l("Choose exclude or pin.")),
            AnyOf(("exclude", "pin"), message=_l("Choose exclude or pin.")),
        ]
    )


class ClearForm(FlaskForm):
    """Clear one adjustment."""

    adjustment = IntegerField(
        validators=[InputRequired(message=_l("Name the adjustment.")), NumberRange(min=1)]
    )


class PublishForm(FlaskForm):
    """Publish the draft (the CSRF token is all it carries)."""
