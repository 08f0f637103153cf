"""The volunteer's route of the day (``/volunteer/``), its marks and contact reveals.

Thin views over ``engine.route_sheets`` (what the route is), ``engine.deliveries``
(a mark, applied once per idempotency key) and ``engine.reveals`` (a household's
contact, inside its window, archived). The route page works without JavaScript
(every button is a form posting to the same service); with it, marks are sent as
JSON and queued on the phone while offline (``static/js/volunteer-*.js``).
"""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from typing import Any
from urllib.parse import quote

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import reveals, route_sheets
from engine.deliveries import KeyReused, NotPublished, TransitionRefused, mark_allocation
from engine.errors import ConflictError, Forbidden, InputError, NotFound
from engine.route_sheets import RouteSheet, Stop
from engine.status import ALLOCATION_TRANSITIONS
from web.access import roles
from web.db import db_session, settings
from web.errors import answer
from web.labels import status_label
from web.volunteer import bp
from web.volunteer.forms import (
    DELIVERY_REASONS,
    FAIL_REASONS,
    MARKS,
    PICKUP_REASONS,
    MarkForm,
    form_data,
)

UPCOMING_DAYS = 14
STATUSES = ("planned", "picked_up", "delivered", "failed", "cancelled")
ATTRIBUTION = "© OpenStreetMap"
COLOURS = ("#0b5d4b", "#1d4ed8", "#8a3b00", "#6b21a8")


def _day_arg() -> date | None:
    text = request.args.get("date")
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _clock(text: str | None) -> time | None:
    try:
        return time.fromisoformat(text) if text else None
    except ValueError:
        return None


def _coords(lat: float, lon: float) -> str:
    return f"{lat:.6f},{lon:.6f}"


def navigation(stop: Stop, origin: tuple[float, float] | None) -> dict[str, str] | None:
    """Links that open a stop in the phone's maps app (``geo:``) and on OpenStreetMap."""
    if stop.lat is None or stop.lon is None:
        return None
    here = _coords(stop.lat, stop.lon)
    links = {"geo": f"geo:{here}?q={here}"}
    if origin is not None:
        route = quote(f"{_coords(*origin)};{here}", safe="")
        links["osm"] = (
            f"https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&route={route}"
        )
    else:
        links["osm"] = (
            f"https://www.openstreetmap.org/?mlat={stop.lat:.6f}&mlon={stop.lon:.6f}#map=17/"
            f"{stop.lat:.6f}/{stop.lon:.6f}"
        )
    return links


def _map_data(sheet: RouteSheet, index: int) -> dict[str, Any]:
    """The map of one round: home, numbered stops, the line through the located ones."""
    rnd = sheet.rounds[index]
    tiles = settings().tile_url
    home = [sheet.home[0], sheet.home[1]]
    stops: list[dict[str, Any]] = [{"lat": home[0], "lon": home[1], "kind": "home"}]
    points = [home]
    for stop in rnd.stops:
        if stop.lat is None or stop.lon is None:
            continue
        stops.append(
            {
                "lat": stop.lat,
                "lon": stop.lon,
                "kind": "pickup" if stop.pickups else "delivery",
                # The number alone as its permanent label (titles would cover each
                # other; map.js writes "order. label" when given an order).
                "label": str(stop.number),
                "number": stop.number,
            }
        )
        points.append([stop.lat, stop.lon])
    points.append(home)
    return {
        "tiles": tiles,
        "attribution": ATTRIBUTION if tiles else "",
        "permanentLabels": True,
        "stops": stops,
        "lines": [{"points": points, "color": COLOURS[index % len(COLOURS)], "label": _("Route")}],
    }


def _stop_title(stop: Stop) -> str:
    if stop.kind == "pickup":
        return _("Pickup at %(place)s", place=stop.place) if stop.place else _("Pickup")
    if stop.kind == "both":
        return _("Pickup and delivery")
    numbers = ", ".join(str(i.number) for i in stop.deliveries)
    return _("Delivery %(numbers)s", numbers=numbers)


def _client_config() -> dict[str, Any]:
    """What the page's script needs: URLs, translated words, the legal moves."""
    return {
        "marksUrl": url_for("volunteer.marks"),
        "swUrl": url_for("volunteer.service_worker"),
        "scope": url_for("volunteer.index"),
        "statusLabels": {s: status_label(s) for s in STATUSES},
        # The moves a volunteer may mark from each status (engine.status's table).
        "moves": {
            status: sorted(m for m in moves if m in MARKS)
            for status, moves in ALLOCATION_TRANSITIONS.items()
            if any(m in MARKS for m in moves)
        },
        "strings": {
            "allSent": _("All marks are sent."),
            "waiting": _("Waiting to send"),
            "pendingCount": _("Marks waiting to send: %(n)s", n="{n}"),
            "offline": _("No connection: marks are kept on this phone and sent later."),
            "sending": _("Sending marks…"),
            "signIn": _("Sign in again to send the waiting marks."),
            "refused": _("Not saved: %(reason)s", reason="{reason}"),
            "contactError": _("The contact could not be shown."),
            "phone": _("Phone"),
            "address": _("Address"),
            "none": _("not recorded"),
            "needReason": _("Choose why it failed."),
        },
    }


@bp.route("/")
@roles("volunteer")
def index() -> Any:
    """The signed-in volunteer's route on a date (default today, ``?date=YYYY-MM-DD``)."""
    day = _day_arg()
    if day is None:
        return answer(400, _("The date must be written YYYY-MM-DD."))
    session = db_session()
    actor = current_user.actor
    sheet = route_sheets.route_sheet(session, actor, day)
    today = date.today()
    upcoming = [
        d for d in route_sheets.route_days(session, actor, today, UPCOMING_DAYS) if d != day
    ]
    rounds = []
    for index, rnd in enumerate(sheet.rounds):
        origin: tuple[float, float] | None = sheet.home
        stops = []
        for stop in rnd.stops:
            stops.append(
                {
                    "stop": stop,
                    "title": _stop_title(stop),
                    "arrival": _clock(stop.arrival),
                    "nav": navigation(stop, origin),
                }
            )
            if stop.lat is not None and stop.lon is not None:
                origin = (stop.lat, stop.lon)
        rounds.append(
            {
                "round": rnd,
                "number": index + 1,
                "stops": stops,
                "map": _map_data(sheet, index),
                "hidden_places": sum(1 for s in rnd.stops if not s.located),
            }
        )
    return render_template(
        "volunteer/route.html",
        sheet=sheet,
        day=day,
        today=today,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        upcoming=upcoming,
        rounds=rounds,
        marks=MARKS,
        reasons=FAIL_REASONS,
        pickup_reasons=PICKUP_REASONS,
        delivery_reasons=DELIVERY_REASONS,
        config=_client_config(),
        key=_new_key,
    )


def _new_key() -> str:
    """An idempotency key for a form (the page without JavaScript: a double submit of
    one rendered form is one mark)."""
    return str(uuid.uuid4())


def _refusal(exc: ConflictError) -> str:
    """A refused mark, in the volunteer's language."""
    if isinstance(exc, TransitionRefused):
        if exc.new == "delivered" and exc.current == "planned":
            return _("Mark it picked up first.")
        return _(
            "It is already %(current)s; it cannot be marked %(new)s.",
            current=status_label(exc.current),
            new=status_label(exc.new),
        )
    if isinstance(exc, NotPublished):
        return _(
            "This route is %(status)s: it takes no more marks.",
            status=status_label(exc.batch_status),
        )
    if isinstance(exc, KeyReused):
        return _("This mark was already used for another delivery; try again.")
    return _("The data changed in the meantime.")


def _field_errors(form: MarkForm) -> dict[str, list[str]]:
    return {name: [str(e) for e in errs] for name, errs in form.errors.items()}


def _errors(form: MarkForm) -> str:
    """The form's errors in one line: "Field: what is wrong"."""
    return " ".join(
        f"{form[name].label.text}: {'; '.join(errs)}" for name, errs in _field_errors(form).items()
    )


def _json_error(code: int, message: str, **extra: Any) -> Any:
    return jsonify({"ok": False, "message": message, **extra}), code


@bp.route("/marks", methods=["POST"])
@roles("volunteer")
def marks() -> Any:
    """A mark (picked up, delivered, failed) on an allocation of the volunteer's route.

    JSON in (``X-CSRFToken`` header), JSON out: 200 with the new status (a repeated
    idempotency key answers the first result, ``replayed``), 400 bad fields, 404 not
    on this volunteer's route, 409 the status does not allow it. From a plain form:
    the same service, then a redirect back to the route with a message.
    """
    as_json = request.is_json
    if as_json:
        data = form_data(request.get_json(silent=True))
        if data is None:
            return _json_error(400, _("Send a JSON object."))
        form = MarkForm(formdata=data)
    else:
        form = MarkForm()
    back = url_for("volunteer.index", date=(form.date.data or date.today()).isoformat())
    if not form.validate():
        if as_json:
            return _json_error(400, _errors(form), errors=_field_errors(form))
        flash(_errors(form), "error")
        return redirect(back)
    session = db_session()
    try:
        result = mark_allocation(
            session,
            current_user.actor,
            form.allocation.data,
            form.kind.data,
            reason=form.reason_text(),
            idempotency_key=form.idempotency_key.data or None,
        )
    except NotFound:
        if as_json:
            return _json_error(404, _("This delivery is not on your route."))
        raise
    except ConflictError as exc:
        session.rollback()  # nothing of a refused mark stays
        if as_json:
            return _json_error(409, _refusal(exc), status=getattr(exc, "current", None))
        flash(_refusal(exc), "error")
        return redirect(back)
    except (Forbidden, InputError) as exc:
        if as_json:
            return _json_error(400 if not isinstance(exc, Forbidden) else 403, str(exc))
        raise
    message = _("Saved: %(status)s.", status=status_label(result.status))
    if as_json:
        return jsonify(
            {
                "ok": True,
                "allocation": result.allocation_id,
                "status": result.status,
                "status_label": status_label(result.status),
                "replayed": result.replayed,
                "message": message,
            }
        )
    flash(message, "success")
    anchor = f"#item-{'pickup' if result.status == 'picked_up' else 'delivery'}-"
    return redirect(back + anchor + str(result.allocation_id))


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.route("/reveal/<int:allocation_id>", methods=["POST"])
@roles("volunteer")
def reveal(allocation_id: int) -> Any:
    """The household's phone and address, for the volunteer carrying its delivery,
    inside the window (``engine.reveals``); archived. Never cached (no-store)."""
    try:
        contact = reveals.reveal_contact(db_session(), current_user.actor, allocation_id)
    except NotFound:
        if _wants_json():
            return _json_error(404, _("This delivery is not on your route."))
        raise
    except ConflictError:
        message = _(
            "Contact details are shown from the route's publication until one day "
            "after the delivery."
        )
        if _wants_json():
            return _json_error(409, message)
        return answer(409, message)
    if _wants_json():
        response = jsonify(
            {
                "ok": True,
                "allocation": contact.allocation_id,
                "phone": contact.phone,
                "address": contact.address,
            }
        )
    else:
        response = render_template("volunteer/contact.html", contact=contact)
    return response
