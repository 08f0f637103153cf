"""The API's error answers: one JSON shape for every error, never a page or a 5xx
for something a client sent.

The body is flask-smorest's (``code``, ``status``, ``message``, ``errors``) plus
``detail``:

* ``status``: the HTTP status phrase, in English (stable, for programs);
* ``message``: what went wrong, in the request's language — ``?lang=ar|fr|en``,
  else the account's language, else ``Accept-Language``, else English (the API
  keeps no session, so ``?lang=`` is not remembered here);
* ``detail``: the engine's specific reason, in English (as the command line says it);
* ``errors``: field-level problems by location, ``{"json": {"quantity": [...]}}``
  (the import pipeline's and the schemas' reasons, in English).

Service errors map as in the pages: ``Forbidden`` 403, ``NotFound`` 404,
``ConflictError`` 409; an invalid record (:class:`engine.intake.Rejected`) and any
other ``InputError`` 422. A 401 carries ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import http
import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from engine.errors import ConflictError, Forbidden, InputError, NotFound
from engine.intake import Rejected
from web.i18n import LANGUAGES, LOCALES

REALM = 'Bearer realm="jessr"'


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be read (is the body valid JSON?)."),
        401: _("A valid bearer token is required (Authorization: Bearer TOKEN)."),
        403: _("Your account may not do this."),
        404: _("Not found, or not visible to your account."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with the current state of the data."),
        413: _("The request is too large."),
        415: _("Send the body as application/json."),
        422: _("Some values are not valid."),
        429: _("Too many requests. Please wait and try again."),
        500: _("Something went wrong on our side."),
    }


def language() -> str:
    """The language of the ``message``: ``?lang=``, the account's, the browser's, English."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    # Read once the request is authenticated (remember_language): by the time an
    # error is answered the session may be unusable (a failed write), so the
    # account's row is not read again here.
    account = g.get("api_account_language")
    if account in LANGUAGES:
        return str(account)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def remember_language() -> None:
    """``before_request`` of the API: note the account's language while the
    database session is fresh."""
    if current_user.is_authenticated:
        g.api_account_language = current_user.locale


def error_response(
    code: int,
    *,
    detail: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The JSON error answer with ``code`` (see the module docstring)."""
    with force_locale(LOCALES[language()]):
        message = _messages().get(code) or _messages()[500 if code >= 500 else 400]
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, Any] = {"code": code, "status": phrase, "message": message}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = dict(errors)
    response = jsonify(body)
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if code == 401:
        presented = request.headers.get("Authorization", "").lower().startswith("bearer ")
        response.headers["WWW-Authenticate"] = (
            f'{REALM}, error="invalid_token"' if presented else REALM
        )
    return response


def _http(exc: HTTPException) -> Any:
    code = exc.code or 500
    if code < 400:
        return exc
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    headers = data.get("headers") or {}
    if code >= 500:
        current_app.logger.error("API error %s on %s", code, request.path)
    return error_response(code, errors=errors, headers=headers)


def _rejected(exc: Rejected) -> Response:
    return error_response(422, errors={"json": exc.by_field()})


def _forbidden(exc: Forbidden) -> Response:
    return error_response(403, detail=str(exc))


def _not_found(exc: NotFound) -> Response:
    # The engine's text may name what was looked for; it never reveals more.
    return error_response(404, detail=str(exc))


def _conflict(exc: ConflictError) -> Response:
    return error_response(409, detail=str(exc))


def _input(exc: InputError) -> Response:
    return error_response(422, detail=str(exc))


def register(bp: Blueprint) -> None:
    """Answer every error of ``bp``'s endpoints (access refusals included) as JSON."""
    bp.register_error_handler(HTTPException, _http)
    bp.register_error_handler(Rejected, _rejected)
    bp.register_error_handler(Forbidden, _forbidden)
    bp.register_error_handler(NotFound, _not_found)
    bp.register_error_handler(ConflictError, _conflict)
    bp.register_error_handler(InputError, _input)
    bp.before_request(remember_language)


class Parser(FlaskParser):
    """webargs' parser, refusing every unreadable body with 400 (never a 500).

    ``json.loads`` raises more than ``JSONDecodeError``: an integer of more than
    4,300 digits is a ``ValueError``, nesting thousands deep a ``RecursionError``.
    """

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            raise json.JSONDecodeError(type(exc).__name__, "unreadable", 0) from None
