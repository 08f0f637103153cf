"""The batch pages: history, run (a background job and its progress), review,
adjust, publish, route sheets. Thin: each view reads its input, calls one
``engine`` service with the signed-in actor, and renders or redirects."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine import jobs
from engine import review as reviews
from engine.access import Actor
from engine.adjustments import adjust as adjust_allocation
from engine.adjustments import clear_adjustment
from engine.errors import ConflictError, Forbidden, InputError, NotFound
from web.access import roles
from web.coordinator.batch import bp
from web.coordinator.batch.charts import chart
from web.coordinator.batch.forms import AdjustForm, ClearForm, PublishForm, RunForm
from web.coordinator.batch.runner import start_after_commit
from web.db import db_session, settings
from web.i18n import current_language
from web.labels import region_name

ROLES = ("coordinator", "admin")
STAGES = {
    "queued": _l("Waiting to start"),
    "starting": _l("Starting"),
    "snapshot": _l("Reading the day's stock, requests and volunteers"),
    "allocating": _l("Allocating the stock to the requests"),
    "routing": _l("Planning the volunteers' routes"),
    "reallocating": _l("Giving stock no route could carry to other requests"),
    "routing again": _l("Planning the routes again"),
    "storing": _l("Storing the draft"),
    "done": _l("Done"),
}
STOP_KINDS = {"pickup": _l("pick up"), "delivery": _l("deliver"), "both": _l("deliver and pick up")}


def _actor() -> Actor:
    return current_user.actor


def _int_arg(name: str, default: int | None = None, low: int = 1, high: int = 10**9) -> int | None:
    """An integer query argument within [low, high]; anything else gives ``default``."""
    raw = request.args.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if low <= value <= high else default


def _text_arg(name: str) -> str | None:
    raw = request.args.get(name, "").strip()
    return raw[:64] or None


def stage_label(stage: str | None) -> str:
    return str(STAGES.get(stage or "", stage or ""))


def _history_page(form: RunForm, code: int = 200) -> Any:
    session, actor = db_session(), _actor()
    page = reviews.history(session, actor, _int_arg("page", 1) or 1)
    recent = jobs.recent_jobs(session, actor, limit=5)
    return (
        render_template(
            "coordinator/batch/history.html",
            page=page,
            jobs=recent,
            form=form,
            stage_label=stage_label,
        ),
        code,
    )


@bp.route("/")
@roles(*ROLES)
def history() -> Any:
    """Batches by date with their key figures; the run form; the latest jobs."""
    return _history_page(RunForm())


@bp.route("/run", methods=["POST"])
@roles(*ROLES)
def run() -> Any:
    """Start a run of the day's batch as a background job, then show its progress."""
    form = RunForm()
    if not form.validate_on_submit():
        return _history_page(form, 422)
    by_iterations = form.budget.data == "iterations"
    try:
        job = jobs.create_batch_job(
            db_session(),
            _actor(),
            form.date.data,
            iterations=form.iterations.data if by_iterations else None,
            time_limit=None if by_iterations else float(form.time_limit.data),
            seed=form.seed.data,
        )
    except jobs.JobRunning as exc:
        flash(
            _(
                "A batch of %(date)s is already running (job %(job)s): wait for it to finish.",
                date=form.date.data.isoformat(),
                job=exc.job_id,
            ),
            "error",
        )
        return redirect(url_for(".job", job_id=exc.job_id), 303)
    start_after_commit(job.id)
    return redirect(url_for(".job", job_id=job.id), 303)


@bp.route("/jobs/<int:job_id>")
@roles(*ROLES)
def job(job_id: int) -> Any:
    """A job's progress (the page polls the status endpoint when scripts run)."""
    view = jobs.get_job(db_session(), job_id, _actor())
    return render_template("coordinator/batch/job.html", job=view, stage_label=stage_label)


@bp.route("/jobs/<int:job_id>.json")
@roles(*ROLES)
def job_status(job_id: int) -> Any:
    """A job's status as JSON: status, progress in [0, 1], stage and its label, error,
    and the review's address once the draft exists."""
    view = jobs.get_job(db_session(), job_id, _actor())
    body = view.as_json()
    body["stage_label"] = stage_label(view.stage)
    body["review_url"] = (
        url_for(".review", batch_id=view.batch_id) if view.batch_id is not None else None
    )
    return jsonify(body)


def _filters() -> reviews.Filters:
    return reviews.Filters(
        region=_text_arg("region"),
        category=_text_arg("category"),
        priority=_int_arg("priority", None, 1, 5),
        reason=_text_arg("reason"),
        unmet_page=_int_arg("page", 1) or 1,
        allocation_page=_int_arg("apage", 1) or 1,
    )


def _page_url(batch_id: int, **changes: Any) -> str:
    """This review's address with the query changed (filters kept across pages)."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args.update({k: v for k, v in changes.items() if v is not None})
    return url_for(".review", batch_id=batch_id, **args)


def _map_data(review: reviews.Review) -> dict[str, Any]:
    """The routes for ``static/js/map.js``: a line per volunteer, numbered stops."""
    tiles = settings().tile_url
    lines, stops = [], []
    for route in review.routes:
        points = [list(route.home), *([s.lat, s.lon] for s in route.stops), list(route.home)]
        lines.append({"points": points, "color": route.colour, "label": route.volunteer})
        stops.append(
            {
                "lat": route.home[0],
                "lon": route.home[1],
                "kind": "home",
                "label": _("%(volunteer)s: home", volunteer=route.volunteer),
            }
        )
        for s in route.stops:
            stops.append(
                {
                    "lat": s.lat,
                    "lon": s.lon,
                    "kind": "delivery" if s.kind != "pickup" else "pickup",
                    "order": s.order,
                    "color": route.colour,
                    "label": f"{route.volunteer} · {STOP_KINDS[s.kind]} · {s.arrival}",
                }
            )
    return {
        "tiles": tiles,
        "attribution": _("Map data © OpenStreetMap contributors") if tiles else "",
        "lines": lines,
        "stops": stops,
    }


def _review_page(batch_id: int, code: int = 200, publish_error: str | None = None) -> Any:
    filters = _filters()
    review = reviews.review(db_session(), batch_id, _actor(), filters)
    rtl = current_language() == "ar"
    priority_chart = chart(
        review.by_priority,
        [_("Priority %(n)s", n=b.key) for b in review.by_priority],
        rtl,
    )
    region_chart = chart(review.by_region, [region_name(b.key) for b in review.by_region], rtl)
    run_form = RunForm(formdata=None, date=review.date)
    return (
        render_template(
            "coordinator/batch/review.html",
            review=review,
            filters=filters,
            priority_chart=priority_chart,
            region_chart=region_chart,
            map_data=_map_data(review),
            run_form=run_form,
            publish_error=publish_error,
            page_url=lambda **kw: _page_url(batch_id, **kw),
            stop_kinds=STOP_KINDS,
        ),
        code,
    )


@bp.route("/<int:batch_id>")
@roles(*ROLES)
def review(batch_id: int) -> Any:
    """Review a batch: figures, charts, unmet needs, collection, routes, adjustments."""
    return _review_page(batch_id)


def _back(batch_id: int) -> Any:
    return redirect(url_for(".review", batch_id=batch_id) + "#adjustments", 303)


@bp.route("/<int:batch_id>/adjust", methods=["POST"])
@roles(*ROLES)
def adjust(batch_id: int) -> Any:
    """Exclude or pin an allocation of the draft for the next runs of its date."""
    form = AdjustForm()
    if not form.validate_on_submit():
        flash(_("Choose an allocation and exclude or pin."), "error")
        return _back(batch_id)
    try:
        adjustment, new = adjust_allocation(
            db_session(), batch_id, form.allocation.data, form.kind.data, _actor()
        )
    except (NotFound, Forbidden):
        raise
    except ConflictError:
        flash(_("Only the current draft can be adjusted."), "error")
        return _back(batch_id)
    except InputError:
        flash(_("This draft has no allocation %(id)s.", id=form.allocation.data), "error")
        return _back(batch_id)
    values = {"id": form.allocation.data}
    if not new:
        flash(_("Allocation %(id)s was already adjusted that way.", **values), "info")
    elif adjustment.kind == "exclude":
        flash(
            _(
                "Allocation %(id)s excluded: the next run will not give this lot to this request.",
                **values,
            ),
            "success",
        )
    else:
        flash(
            _("Allocation %(id)s pinned: the next run will keep it.", **values),
            "success",
        )
    return _back(batch_id)


@bp.route("/<int:batch_id>/adjustments/clear", methods=["POST"])
@roles(*ROLES)
def clear(batch_id: int) -> Any:
    """Clear an adjustment: the next runs of its date ignore it."""
    form = ClearForm()
    if not form.validate_on_submit():
        flash(_("Choose the adjustment to clear."), "error")
        return _back(batch_id)
    try:
        clear_adjustment(db_session(), form.adjustment.data, _actor())
    except NotFound:
        flash(_("There is no such adjustment."), "error")
        return _back(batch_id)
    except ConflictError:
        flash(_("This adjustment was already cleared."), "info")
        return _back(batch_id)
    flash(_("Adjustment cleared: run the batch again to plan without it."), "success")
    return _back(batch_id)


@bp.route("/<int:batch_id>/publish", methods=["POST"])
@roles(*ROLES)
def publish(batch_id: int) -> Any:
    """Publish the draft: reserve its stock, make its routes visible; all or nothing."""
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reviews.publish(db_session(), batch_id, _actor())
    except ConflictError as exc:
        return _review_page(batch_id, 409, publish_error=str(exc))
    flash(_("Batch %(id)s published: stock reserved, routes visible.", id=batch_id), "success")
    return redirect(url_for(".review", batch_id=batch_id), 303)


@bp.route("/<int:batch_id>/routes/<int:volunteer_id>")
@roles(*ROLES)
def route_sheet(batch_id: int, volunteer_id: int) -> Any:
    """A volunteer's printable route: stops in order, times, what to pick up and
    deliver. Coordinators see their own organization's volunteers only."""
    sheet = reviews.route_sheet(db_session(), batch_id, volunteer_id, _actor())
    return render_template("coordinator/batch/route_sheet.html", sheet=sheet)
