"""The archive: search its events, verify its hash chain, trace a lot or a request.

Personal data is never shown here. The archive keeps names, phones and addresses
in each event's erasable ``personal`` part; the search shows only whether an event
carries some (or had it erased). An admin needs to see what changed, when and by
whom — not who a family is — and a search page listing personal data would put it
in front of every admin for every record. Household pseudonyms are masked too
(``engine.trace.scrub``).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine import audit, trace
from engine.errors import InputError
from engine.models.audit import AuditEvent
from web.access import roles
from web.admin import bp
from web.admin.common import actor
from web.admin.forms import ArchiveSearchForm, TraceForm
from web.db import db_session

PER_PAGE = 50


def _date(field: Any) -> date | None:
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        field.errors = [*field.errors, _("Enter a date as YYYY-MM-DD.")]
        return None


def _decoded(text: str | None) -> Any:
    return None if text is None else trace.scrub(json.loads(text))


LONG_ITEMS = 8  # a batch event lists every lot and request it touched: show a count


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict) and len(value) > LONG_ITEMS:
        return _("(%(num)s items)", num=f"{len(value):,}")
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@bp.route("/archive")
@roles("admin")
def archive() -> Any:
    session = db_session()
    form = ArchiveSearchForm(request.args)
    types = session.execute(
        select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)
    ).scalars()
    form.entity_type.choices = [("", _("All")), *((t, t) for t in types)]
    form.validate()
    since, until = _date(form.since), _date(form.until)
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    result = audit.search_events(
        session,
        actor(),
        entity_type=form.entity_type.data or None,
        entity=form.entity.data or None,
        actor=form.actor.data or None,
        action=form.action.data or None,
        since=since,
        until=until,
        page=page,
        per_page=PER_PAGE,
    )
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    rows = [
        {
            "event": e,
            "before": _decoded(e.before),
            "after": _decoded(e.after),
            "personal": (
                "erased"
                if e.personal_digest and e.personal is None
                else ("held" if e.personal else None)
            ),
        }
        for e in result.events
    ]
    return render_template(
        "admin/archive.html",
        form=form,
        result=result,
        rows=rows,
        query=query,
        shown=_shown,
        head=audit.head(session),
    )


@bp.route("/archive/verify", methods=["POST"])
@roles("admin")
def archive_verify() -> Any:
    # POST although it changes nothing: it reads the whole archive (about 25 s per
    # million events), which a link a browser may prefetch should not start.
    session = db_session()
    expected = (request.form.get("head") or "").strip().lower() or None
    result = audit.verify_archive(session, actor(), expected_head=expected)
    bad = None
    if result.bad_seq is not None:
        bad = session.execute(
            select(AuditEvent).where(AuditEvent.seq == result.bad_seq)
        ).scalar_one_or_none()
    return render_template(
        "admin/verify.html", result=result, bad=bad, expected=expected, head=audit.head(session)
    )


@bp.route("/trace")
@roles("admin")
def trace_lookup() -> Any:
    form = TraceForm(request.args)
    error = None
    if form.ref.data:
        try:
            record_id = trace.find_record(
                db_session(), actor(), form.kind.data or "lot", form.ref.data
            )
        except InputError:
            error = _("No such record, or more than one: give ORG/REF.")
        else:
            endpoint = "admin.trace_request" if form.kind.data == "request" else "admin.trace_lot"
            key = "request_id" if form.kind.data == "request" else "lot_id"
            return redirect(url_for(endpoint, **{key: record_id}))
    return render_template("admin/trace.html", form=form, error=error, trace=None), (
        404 if error else 200
    )


def _trace_page(kind: str, record_id: int) -> Any:
    found = trace.trace_by_id(db_session(), actor(), kind, record_id)
    return render_template(
        "admin/trace.html", form=TraceForm(formdata=None, kind=kind), error=None, trace=found,
        shown=_shown,
    )  # fmt: skip


@bp.route("/trace/lot/<int:lot_id>")
@roles("admin")
def trace_lot(lot_id: int) -> Any:
    return _trace_page("lot", lot_id)


@bp.route("/trace/request/<int:request_id>")
@roles("admin")
def trace_request(request_id: int) -> Any:
    return _trace_page("request", request_id)
