"""Imports: upload a file, see what it would change and every bad row, then commit it.

``POST /admin/imports`` stores the upload (``engine.uploads``) and previews it
(nothing written). When the file has no bad row, the page carries a signed token —
the upload's key, its SHA-256, the kind, the organization and the uploader, signed
with the app's secret key and valid for a day — in the commit form; ``POST
/admin/imports/commit`` applies exactly that file (the SHA-256 must still match) in
the request's one transaction and then discards it. The browser never names a path.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine import uploads
from engine.errors import ConflictError, FieldError, NotFound
from engine.geocache import database_geocoder
from engine.imports.report import ImportReport
from web.access import roles
from web.admin import bp, fields
from web.admin.common import actor, org_choices
from web.admin.forms import CommitForm, ImportForm
from web.db import db_session, settings

SALT = "jessr.admin.import"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _form() -> ImportForm:
    form = ImportForm()
    form.org.choices = org_choices(_l("— the file's org column —"))
    return form


def _page(form: ImportForm, code: int = 200, **context: Any) -> Any:
    return render_template("admin/imports.html", form=form, **context), code


def _run(kind: str, upload: uploads.StoredUpload, org: str | None, commit: bool) -> ImportReport:
    session = db_session()
    config = settings()
    run = uploads.commit_import if commit else uploads.preview_import
    return run(
        session,
        actor(),
        kind,
        upload,
        org=org,
        household_key=lambda: config.household_key,
        geocoder=database_geocoder(session, config.geocoder),
        duplicate_window_days=config.duplicate_window_days,
    )


@bp.route("/imports", methods=["GET"])
@roles("admin")
def imports() -> Any:
    return _page(_form())


@bp.route("/imports", methods=["POST"])
@roles("admin")
def import_preview() -> Any:
    form = _form()
    if not form.validate_on_submit():
        return _page(form, 422)
    storage = form.file.data
    if storage is None or not getattr(storage, "filename", ""):
        form.file.errors.append(_("Choose a file."))
        return _page(form, 422)
    var_dir = settings().var_dir
    try:
        upload = uploads.store_upload(var_dir, storage.filename, storage.read())
    except FieldError as exc:
        fields.show(form, exc)
        return _page(form, 422)
    kind, org = form.kind.data, form.org.data or None
    try:
        report = _run(kind, upload, org, commit=False)
    except FieldError as exc:
        uploads.discard_upload(var_dir, upload.key)
        fields.show(form, exc)
        return _page(form, 422)
    token = None
    if report.ok:
        token = _signer().dumps(
            {
                "key": upload.key,
                "sha256": upload.sha256,
                "kind": kind,
                "org": org,
                "user": actor().user_id,
                "file": storage.filename,
            }
        )
    else:
        uploads.discard_upload(var_dir, upload.key)  # it cannot be committed: keep nothing
    commit = CommitForm(formdata=None, upload=token)
    return _page(
        form,
        200 if report.ok else 422,
        report=report,
        filename=storage.filename,
        sha256=upload.sha256,
        kind=kind,
        commit=commit if token else None,
    )


def _refused(message: str, code: int) -> Any:
    flash(message, "error")
    return _page(_form(), code)


@bp.route("/imports/commit", methods=["POST"])
@roles("admin")
def import_commit() -> Any:
    form = CommitForm()
    form.validate_on_submit()  # the CSRF check (the token is checked below)
    max_age = int(uploads.MAX_AGE.total_seconds())
    try:
        data = _signer().loads(form.upload.data or "", max_age=max_age)
    except SignatureExpired:
        return _refused(_("This preview is more than a day old: upload the file again."), 409)
    except BadSignature:
        return _refused(_("This import cannot be committed: upload the file again."), 400)
    if not isinstance(data, dict) or data.get("user") != actor().user_id:
        return _refused(_("This import cannot be committed: upload the file again."), 400)
    var_dir = settings().var_dir
    try:
        upload = uploads.find_upload(var_dir, str(data.get("key")), str(data.get("sha256")))
    except NotFound:
        return _refused(
            _(
                "This file is no longer kept (it was already imported, or previewed more "
                "than a day ago): upload it again to see what it would change."
            ),
            409,
        )
    except ConflictError:
        return _refused(_("The stored file is not the one previewed: upload it again."), 409)
    try:
        report = _run(str(data["kind"]), upload, data.get("org"), commit=True)
    except FieldError as exc:
        return _refused(fields.message(exc), 422)
    uploads.discard_upload(var_dir, upload.key)
    if report.committed:
        flash(_("The file was imported."), "success")
    return _page(
        _form(),
        200 if report.committed else 409,
        report=report,
        filename=data.get("file"),
        sha256=upload.sha256,
        kind=data["kind"],
        committed=report.committed,
    )
