"""``/volunteer/availability``: the next fortnight's days the volunteer can drive.

The next day's snapshot reads what is saved here (``engine.availability``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import availability as service
from web.access import roles
from web.db import db_session
from web.labels import when
from web.volunteer import bp
from web.volunteer.forms import AvailabilityForm, SelectChoice


@bp.route("/availability", methods=["GET", "POST"])
@roles("volunteer")
def availability() -> Any:
    """GET: the next days with a checkbox each; POST: save the ticked ones."""
    session = db_session()
    actor = current_user.actor
    start = date.today()
    days = service.availability(session, actor, start)
    form = AvailabilityForm()
    form.days.choices = [SelectChoice(d.day.isoformat(), when(d.day, "full")) for d in days]
    if form.validate_on_submit():
        chosen = [date.fromisoformat(text) for text in form.days.data or []]
        change = service.set_availability(session, actor, start, chosen)
        if change.changed:
            flash(_("Your availability is saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        for day in change.routes_kept:
            flash(
                _(
                    "You already have a published route on %(day)s: tell your coordinator "
                    "if you cannot drive it.",
                    day=when(day, "full"),
                ),
                "error",
            )
        return redirect(url_for("volunteer.availability"))
    if form.is_submitted():
        return render_template("volunteer/availability.html", form=form, days=days), 400
    return render_template("volunteer/availability.html", form=form, days=days)
