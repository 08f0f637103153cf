"""The organization's records: ``/coordinator/requests``, ``/coordinator/lots``,
``/coordinator/volunteers`` (filtered by the query string, paginated), and the
"send a sign-in link" button of a volunteer with an account.

The lists come from :mod:`engine.listings` (scope checked there: an admin may
name any organization with ``?org=ID``, others only their own). The sign-in
link is shown once, in the answer to the POST that made it, so that it can be
sent by SMS; it is not kept anywhere it could be shown again (only its hash is
stored).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import entries, listings
from engine.entries import NoAccount
from engine.listings import Catalogue
from web.access import roles
from web.coordinator import bp, choices
from web.coordinator.forms import ListFilter, LotFilter, RequestFilter, VolunteerFilter
from web.db import db_session

READ_ROLES = ("coordinator", "staff", "admin")
VOLUNTEER_ROLES = ("coordinator", "admin")


def _filters(form: ListFilter, catalogue: Catalogue) -> int:
    """Fill the filter's options and check it; 400 when the query string is bad
    (its errors show on the filter, the defaults apply)."""
    form.org.choices = choices.organizations(catalogue, _("All organizations"))
    if hasattr(form, "region"):
        form.region.choices = choices.regions(catalogue, _("All regions"))
    if hasattr(form, "category"):
        form.category.choices = choices.categories(catalogue, _("All categories"))
    if form.validate():
        return 200
    for name, item in form._fields.items():
        if item.errors and name != "org":
            item.data = item.default
    return 400


def page_url(page: int) -> str:
    """This list's URL at ``page``, with the same filters."""
    args = request.args.to_dict()
    args["page"] = str(page)
    return url_for(request.endpoint or ".index", **args)


@bp.route("/requests")
@roles(*READ_ROLES)
def requests() -> Any:
    """The organization's requests (open ones first by default)."""
    actor = current_user.actor
    session = db_session()
    catalogue = listings.catalogue(session, actor)
    form = RequestFilter(request.args)
    form.status.choices = choices.request_statuses()
    status = _filters(form, catalogue)
    page = listings.list_requests(
        session,
        actor,
        org_id=form.org.data,
        status=form.status.data or "open",
        region=form.region.data or None,
        category=form.category.data or None,
        page=form.page.data or 1,
    )
    return render_template(
        "coordinator/requests.html",
        form=form,
        page=page,
        page_url=page_url,
        several_orgs=len(catalogue.organizations) > 1,
    ), status


@bp.route("/lots")
@roles(*READ_ROLES)
def lots() -> Any:
    """The organization's supply lots (with stock left, by default)."""
    actor = current_user.actor
    session = db_session()
    catalogue = listings.catalogue(session, actor)
    form = LotFilter(request.args)
    form.state.choices = choices.lot_states()
    status = _filters(form, catalogue)
    today = date.today()
    page = listings.list_lots(
        session,
        actor,
        org_id=form.org.data,
        state=form.state.data or "available",
        region=form.region.data or None,
        category=form.category.data or None,
        day=today,
        page=form.page.data or 1,
    )
    return render_template(
        "coordinator/lots.html",
        form=form,
        page=page,
        page_url=page_url,
        today=today,
        several_orgs=len(catalogue.organizations) > 1,
    ), status


@bp.route("/volunteers")
@roles(*VOLUNTEER_ROLES)
def volunteers() -> Any:
    """The organization's volunteers, with a sign-in link button for those with an account."""
    actor = current_user.actor
    session = db_session()
    catalogue = listings.catalogue(session, actor)
    form = VolunteerFilter(request.args)
    form.state.choices = choices.volunteer_states()
    status = _filters(form, catalogue)
    page = listings.list_volunteers(
        session,
        actor,
        org_id=form.org.data,
        state=form.state.data or "active",
        page=form.page.data or 1,
    )
    return render_template(
        "coordinator/volunteers.html",
        form=form,
        page=page,
        page_url=page_url,
        weekdays=choices.weekday_names(),
        several_orgs=len(catalogue.organizations) > 1,
    ), status


@bp.route("/volunteers/<int:volunteer_id>/sign-in-link", methods=["POST"])
@roles(*VOLUNTEER_ROLES)
def login_link(volunteer_id: int) -> Any:
    """Make a one-time sign-in link for the volunteer's account and show it once."""
    try:
        volunteer, user, token = entries.volunteer_login_link(
            db_session(), current_user.actor, volunteer_id
        )
    except NoAccount:
        flash(_("This volunteer has no active account to sign in with."), "error")
        return redirect(url_for(".volunteers"))
    return render_template(
        "coordinator/login_link.html",
        link=url_for("auth.login_link", token=token, _external=True),
        volunteer=volunteer,
        email=user.email,
    )
