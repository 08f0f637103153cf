"""Organizations and their sites: list, add, edit (organizations), add (sites)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from engine import organizations as service
from engine.errors import FieldError
from engine.geocache import database_geocoder
from engine.models.people import User
from engine.models.reference import Organization, Site
from web.access import roles
from web.admin import bp, fields
from web.admin.common import actor, org_choices, region_choices
from web.admin.forms import OrganizationForm, SiteForm, parse_number
from web.db import db_session, settings


@bp.route("/organizations")
@roles("admin")
def organizations() -> Any:
    session = db_session()
    orgs = service.list_organizations(session, actor())
    code_of = {o.id: o.code for o in orgs}
    sites = dict(session.execute(select(Site.org_id, func.count()).group_by(Site.org_id)).all())
    users = dict(session.execute(select(User.org_id, func.count()).group_by(User.org_id)).all())
    return render_template(
        "admin/organizations.html",
        orgs=orgs,
        parent_code=lambda o: code_of.get(o.parent_id) if o.parent_id else None,
        sites=sites,
        users=users,
    )


def _org_form(**data: Any) -> OrganizationForm:
    form = OrganizationForm(**data)
    form.region.choices = region_choices()
    form.parent.choices = org_choices(_l("— none —"))
    return form


@bp.route("/organizations/new", methods=["GET", "POST"])
@roles("admin")
def organization_new() -> Any:
    form = _org_form()
    if form.is_submitted():
        if form.validate():
            try:
                org = service.create_organization(
                    db_session(),
                    actor(),
                    form.code.data or "",
                    form.name.data or "",
                    form.region.data or "",
                    form.parent.data or None,
                )
            except FieldError as exc:
                fields.show(form, exc)
            else:
                flash(_("Organization %(code)s added.", code=org.code), "success")
                return redirect(url_for("admin.organizations"))
        return render_template("admin/organization_form.html", form=form, org=None), 422
    return render_template("admin/organization_form.html", form=form, org=None)


@bp.route("/organizations/<org>/edit", methods=["GET", "POST"])
@roles("admin")
def organization_edit(org: str) -> Any:
    session = db_session()
    found = service.organization_of(session, actor(), org)
    parent = session.get(Organization, found.parent_id) if found.parent_id else None
    form = _org_form(
        code=found.code,
        name=found.name,
        region=found.region_code,
        parent=parent.code if parent else "",
    )
    form.code.render_kw = {"readonly": True}
    if form.is_submitted():
        if form.validate():
            try:
                service.update_organization(
                    session,
                    actor(),
                    found.code,
                    form.name.data or "",
                    form.region.data or "",
                    form.parent.data or None,
                )
            except FieldError as exc:
                fields.show(form, exc)
            else:
                flash(_("Organization %(code)s saved.", code=found.code), "success")
                return redirect(url_for("admin.organizations"))
        form.code.data = found.code  # the code never changes
        return render_template("admin/organization_form.html", form=form, org=found), 422
    return render_template("admin/organization_form.html", form=form, org=found)


@bp.route("/organizations/<org>/sites")
@roles("admin")
def sites(org: str) -> Any:
    session = db_session()
    found = service.organization_of(session, actor(), org)
    return render_template(
        "admin/sites.html", org=found, sites=service.list_sites(session, actor(), found)
    )


@bp.route("/organizations/<org>/sites/new", methods=["GET", "POST"])
@roles("admin")
def site_new(org: str) -> Any:
    session = db_session()
    found = service.organization_of(session, actor(), org)
    form = SiteForm()
    form.region.choices = [("", _l("— the organization's region —")), *region_choices()]
    if form.is_submitted():
        if form.validate():
            try:
                site = service.create_site(
                    session,
                    actor(),
                    found.code,
                    form.code.data or "",
                    form.name.data or "",
                    region=form.region.data or None,
                    lat=parse_number(form.lat.data),
                    lon=parse_number(form.lon.data),
                    address=form.address.data or None,
                    geocoder=database_geocoder(session, settings().geocoder),
                )
            except FieldError as exc:
                fields.show(form, exc)
            else:
                flash(_("Site %(code)s added.", code=site.code), "success")
                return redirect(url_for("admin.sites", org=found.code))
        return render_template("admin/site_form.html", form=form, org=found), 422
    return render_template("admin/site_form.html", form=form, org=found)
