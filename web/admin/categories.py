"""The category catalogue: list, add, edit (names, unit, weight), delete unused ones."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from engine import categories as service
from engine.errors import FieldError
from web.access import roles
from web.admin import bp, fields
from web.admin.common import actor
from web.admin.forms import CategoryForm, DeleteForm, parse_number
from web.db import db_session


@bp.route("/categories")
@roles("admin")
def categories() -> Any:
    return render_template(
        "admin/categories.html", categories=service.list_categories(db_session(), actor())
    )


@bp.route("/categories/new", methods=["GET", "POST"])
@roles("admin")
def category_new() -> Any:
    form = CategoryForm()
    if form.is_submitted():
        if form.validate():
            try:
                category = service.add_category(
                    db_session(),
                    actor(),
                    form.id.data or "",
                    form.names(),
                    form.unit.data or "",
                    parse_number(form.weight_kg.data),
                    bool(form.perishable.data),
                )
            except FieldError as exc:
                fields.show(form, exc)
            else:
                flash(_("Category %(id)s added.", id=category.id), "success")
                return redirect(url_for("admin.categories"))
        return render_template("admin/category_form.html", form=form, use=None), 422
    return render_template("admin/category_form.html", form=form, use=None)


@bp.route("/categories/<category_id>/edit", methods=["GET", "POST"])
@roles("admin")
def category_edit(category_id: str) -> Any:
    session = db_session()
    use = service.get_category(session, actor(), category_id)
    category = use.category
    names = category.names or {}
    form = CategoryForm(
        id=category.id,
        name_ar=names.get("ar", ""),
        name_fr=names.get("fr", ""),
        name_en=names.get("en", ""),
        unit=category.unit,
        weight_kg=f"{category.weight_kg:g}",
        perishable=category.perishable,
    )
    form.id.render_kw = {"readonly": True}
    context = {"form": form, "use": use, "delete_form": DeleteForm(formdata=None)}
    if form.is_submitted():
        if form.validate():
            try:
                service.update_category(
                    session,
                    actor(),
                    category.id,
                    form.names(),
                    form.unit.data or "",
                    parse_number(form.weight_kg.data),
                    bool(form.perishable.data),
                )
            except FieldError as exc:
                fields.show(form, exc)
            else:
                flash(_("Category %(id)s saved.", id=category.id), "success")
                return redirect(url_for("admin.categories"))
        form.id.data = category.id  # the id never changes
        return render_template("admin/category_form.html", **context), 422
    return render_template("admin/category_form.html", **context)


@bp.route("/categories/<category_id>/delete", methods=["POST"])
@roles("admin")
def category_delete(category_id: str) -> Any:
    session = db_session()
    use = service.get_category(session, actor(), category_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        flash(_("The form expired: try again."), "error")
        return redirect(url_for("admin.category_edit", category_id=use.category.id)), 303
    try:
        service.delete_category(session, actor(), use.category.id)
    except FieldError as exc:
        flash(fields.message(exc), "error")
        return render_template(
            "admin/category_form.html",
            form=_filled(use),
            use=use,
            delete_form=DeleteForm(formdata=None),
        ), 409
    flash(_("Category %(id)s deleted.", id=category_id), "success")
    return redirect(url_for("admin.categories"))


def _filled(use: service.CategoryUse) -> CategoryForm:
    category = use.category
    names = category.names or {}
    form = CategoryForm(
        formdata=None,
        id=category.id,
        name_ar=names.get("ar", ""),
        name_fr=names.get("fr", ""),
        name_en=names.get("en", ""),
        unit=category.unit,
        weight_kg=f"{category.weight_kg:g}",
        perishable=category.perishable,
    )
    form.id.render_kw = {"readonly": True}
    return form
