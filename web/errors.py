"""Error answers: a page in the user's language, or JSON under ``/api/``.

Service errors map to HTTP: ``Forbidden`` 403, ``NotFound`` 404, another
``InputError`` 400, ``ConflictError`` 409. No traceback ever reaches a user; an
unexpected error is logged and answered 500.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.errors import ConflictError, Forbidden, InputError, NotFound
from web.access import is_api


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist, or you cannot see it."),
        405: _("This action is not allowed here."),
        409: _("The data changed in the meantime."),
        413: _("The file is too large."),
        422: _("Some values are not valid."),
        429: _("Too many attempts. Please wait a minute and try again."),
        500: _("Something went wrong on our side."),
    }


def answer(code: int, detail: str | None = None) -> Any:
    """An error answer with ``code``: JSON for the API, else the error page."""
    title = _titles().get(code, _("Something went wrong on our side."))
    if is_api():
        body: dict[str, Any] = {"code": code, "status": title}
        if detail:
            body["message"] = detail
        return jsonify(body), code
    return render_template("errors/error.html", code=code, title=title, detail=detail), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        if is_api():  # flask-smorest's body: code, status, message, field-level errors
            from web.api import api

            return api.handle_http_exception(exc)
        if exc.code == 401 and is_api():
            response, code = answer(401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="jessr"'
            return response, code
        return answer(exc.code)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return answer(
            400,
            _(
                "The form has expired or was not sent from this site. Reload the page and try again."  # noqa: E501
            ),
        )

    @app.errorhandler(Forbidden)
    def _forbidden(exc: Forbidden) -> Any:
        return answer(403)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> Any:
        return answer(404)

    @app.errorhandler(ConflictError)
    def _conflict(exc: ConflictError) -> Any:
        return answer(409, str(exc))

    @app.errorhandler(InputError)
    def _input(exc: InputError) -> Any:
        return answer(400, str(exc))

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError) -> Any:
        return answer(500)
