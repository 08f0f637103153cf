"""Entry pages: a new donation (``/coordinator/lots/new``), request
(``/coordinator/requests/new``) and volunteer (``/coordinator/volunteers/new``).

Each POST is one service call of :mod:`engine.entries` with the signed-in
actor; a refused entry comes back as the form with a translated message on each
field concerned (status 422, nothing written: the request rolls back). A
household identifier typed into the request form is never sent back: its input
is always rendered empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import entries, listings
from engine.entries import EntryRejected
from engine.geocache import database_geocoder
from engine.listings import Catalogue
from web.access import roles
from web.coordinator import bp, choices, problems
from web.coordinator.forms import EntryForm, LotForm, RequestForm, VolunteerForm
from web.db import db_session, settings

ENTRY_ROLES = ("coordinator", "staff", "admin")
VOLUNTEER_ROLES = ("coordinator", "admin")


def _prepare(form: EntryForm, catalogue: Catalogue) -> None:
    """Options of the form's selects; the organization defaults to the user's own."""
    several = len(catalogue.organizations) > 1
    form.org.choices = choices.organizations(catalogue, _("Choose…") if several else None)
    if form.org.data is None and not several and catalogue.organizations:
        form.org.data = catalogue.organizations[0].id
    if hasattr(form, "category"):
        form.category.choices = choices.categories(catalogue, _("Choose…"))
    if hasattr(form, "region"):
        form.region.choices = choices.regions(catalogue, _("Choose…"))
    if isinstance(form, LotForm):
        form.site.choices = choices.sites(catalogue, several)
    if isinstance(form, VolunteerForm):
        form.weekdays.choices = choices.options(list(choices.weekday_names().items()))
    if isinstance(form, RequestForm) and not form.is_submitted():
        form.filed.data = date.today().isoformat()


def _org_code(catalogue: Catalogue, org_id: int | None) -> str | None:
    return next((o.code for o in catalogue.organizations if o.id == org_id), None)


def _entry(
    form: EntryForm,
    template: str,
    save: Callable[[int], Any],
    done: Callable[[Any], str],
    back: str,
) -> Any:
    """The GET/POST cycle shared by the entry pages."""
    actor = current_user.actor
    catalogue = listings.catalogue(db_session(), actor)
    _prepare(form, catalogue)
    loose: list[str] = []
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                row = save(form.org.data)
            except EntryRejected as rejected:
                code = _org_code(catalogue, form.org.data)
                loose = problems.show(form, rejected.problems, actor, code)
                status = 422
            else:
                flash(done(row), "success")
                return redirect(url_for(back))
        else:
            status = 400
    return render_template(
        template,
        form=form,
        loose=loose,
        several_orgs=len(catalogue.organizations) > 1,
    ), status


@bp.route("/lots/new", methods=["GET", "POST"])
@roles(*ENTRY_ROLES)
def new_lot() -> Any:
    """Record a donation (a supply lot)."""
    form = LotForm()

    def save(org_id: int) -> Any:
        try:
            site_id = form.site_id()
        except ValueError:
            site_id = -1  # not a site's id: refused as an unknown site
        return entries.add_lot(
            db_session(), current_user.actor, org_id, form.values(), site_id=site_id
        )

    return _entry(
        form,
        "coordinator/lot_form.html",
        save,
        lambda lot: _("Donation %(ref)s recorded.", ref=lot.ref),
        ".lots",
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@roles(*ENTRY_ROLES)
def new_request() -> Any:
    """Record a household's request."""
    form = RequestForm()

    def save(org_id: int) -> Any:
        s = settings()
        session = db_session()
        return entries.add_request(
            session,
            current_user.actor,
            org_id,
            form.values(),
            household_key=lambda: s.household_key,
            geocoder=database_geocoder(session, s.geocoder),
            duplicate_window_days=s.duplicate_window_days,
        )

    return _entry(
        form,
        "coordinator/request_form.html",
        save,
        lambda row: _("Request %(ref)s recorded.", ref=row.ref),
        ".requests",
    )


@bp.route("/volunteers/new", methods=["GET", "POST"])
@roles(*VOLUNTEER_ROLES)
def new_volunteer() -> Any:
    """Record a volunteer."""
    form = VolunteerForm()

    def save(org_id: int) -> Any:
        return entries.add_volunteer(db_session(), current_user.actor, org_id, form.values())

    return _entry(
        form,
        "coordinator/volunteer_form.html",
        save,
        lambda row: _("Volunteer %(ref)s recorded.", ref=row.ref),
        ".volunteers",
    )
