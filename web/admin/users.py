"""Accounts: list, add, disable or enable, reset the password."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from engine import accounts
from engine import users as service
from engine.errors import FieldError
from engine.models.people import Volunteer
from engine.models.reference import Organization
from web.access import roles
from web.admin import bp, fields
from web.admin.common import actor, org_choices
from web.admin.forms import ActiveForm, PasswordForm, UserForm, role_choices
from web.db import db_session


def _labels(users: list[Any]) -> tuple[dict[int, str], dict[int, str]]:
    """Organization code by org id, ``ORG/REF`` by volunteer id, for ``users``."""
    session = db_session()
    codes = dict(session.execute(select(Organization.id, Organization.code)).all())
    ids = {u.volunteer_id for u in users if u.volunteer_id}
    refs: dict[int, str] = {}
    if ids:
        rows = session.execute(
            select(Volunteer.id, Volunteer.org_id, Volunteer.ref).where(Volunteer.id.in_(ids))
        )
        refs = {vid: f"{codes.get(org_id, '?')}/{ref}" for vid, org_id, ref in rows}
    return codes, refs


@bp.route("/users")
@roles("admin")
def users() -> Any:
    org = request.args.get("org") or None
    role = request.args.get("role") or None
    found = service.list_users(db_session(), actor(), org=org, role=role)
    codes, refs = _labels(found)
    return render_template(
        "admin/users.html",
        users=found,
        codes=codes,
        refs=refs,
        orgs=org_choices(_l("All organizations")),
        roles=[("", _l("All roles")), *role_choices()],
        org=org or "",
        role=role or "",
        roles_named=dict(role_choices()),
    )


def _user_form() -> UserForm:
    form = UserForm()
    form.org.choices = org_choices(_l("— none (admin) —"))
    return form


@bp.route("/users/new", methods=["GET", "POST"])
@roles("admin")
def user_new() -> Any:
    form = _user_form()
    if form.is_submitted():
        if form.validate():
            try:
                user = service.create_user(
                    db_session(),
                    actor(),
                    form.email.data or "",
                    form.role.data or "",
                    org=form.org.data or None,
                    volunteer=form.volunteer.data or None,
                    password=form.password.data or None,
                )
            except FieldError as exc:
                fields.show(form, exc)
            else:
                flash(_("Account %(email)s added.", email=user.email), "success")
                return redirect(url_for("admin.user", user_id=user.id))
        return render_template("admin/user_form.html", form=form), 422
    return render_template("admin/user_form.html", form=form)


def _user_page(user_id: int, password_form: PasswordForm | None = None, code: int = 200) -> Any:
    user = service.get_user(db_session(), actor(), user_id)
    codes, refs = _labels([user])
    return render_template(
        "admin/user.html",
        user=user,
        org=codes.get(user.org_id) if user.org_id else None,
        volunteer=refs.get(user.volunteer_id) if user.volunteer_id else None,
        roles_named=dict(role_choices()),
        password_form=password_form or PasswordForm(formdata=None),
        active_form=ActiveForm(formdata=None),
        is_self=user.id == actor().user_id,
    ), code


@bp.route("/users/<int:user_id>")
@roles("admin")
def user(user_id: int) -> Any:
    return _user_page(user_id)


def _set_active(user_id: int, active: bool) -> Any:
    session = db_session()
    found = service.get_user(session, actor(), user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        return _user_page(user_id, code=400)
    try:
        accounts.set_active(session, actor(), found.id, active)
    except FieldError as exc:
        flash(fields.message(exc), "error")
        return _user_page(user_id, code=409)
    if active:
        flash(_("Account %(email)s enabled.", email=found.email), "success")
    else:
        flash(
            _("Account %(email)s disabled: its sessions and API tokens ended.", email=found.email),
            "success",
        )
    return redirect(url_for("admin.user", user_id=found.id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@roles("admin")
def user_disable(user_id: int) -> Any:
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@roles("admin")
def user_enable(user_id: int) -> Any:
    return _set_active(user_id, True)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles("admin")
def user_password(user_id: int) -> Any:
    session = db_session()
    found = service.get_user(session, actor(), user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(session, actor(), found.id, form.password.data or "")
        except FieldError as exc:
            fields.show(form, exc)
        else:
            flash(_("New password set for %(email)s.", email=found.email), "success")
            return redirect(url_for("admin.user", user_id=found.id))
    return _user_page(user_id, password_form=form, code=422)
