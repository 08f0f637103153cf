"""The JSON API under ``/api/v1`` (flask-smorest): bearer tokens, OpenAPI 3 generated
from the marshmallow schemas that validate the requests (``/api/v1/openapi.json``).

One module per resource: :mod:`~web.api.me`, :mod:`~web.api.requests`,
:mod:`~web.api.donations`, :mod:`~web.api.batches` (published batches and routes),
:mod:`~web.api.deliveries`; the schemas in :mod:`~web.api.schemas`, the error
answers in :mod:`~web.api.errors`. Views are thin: they call ``engine`` services
with the token's :class:`engine.access.Actor` (``engine.intake``,
``engine.published``), which check every object against the actor's role and
organization.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from flask_smorest import Api, Blueprint

from web.access import EXTENSION_RULES, PUBLIC
from web.api.errors import REALM, Parser
from web.api.schemas import ApiError

F = TypeVar("F", bound=Callable[..., Any])

DESCRIPTION = """\
Jessr's JSON API. Every operation needs `Authorization: Bearer TOKEN`
(`jessr token create EMAIL` prints one); a missing, expired or revoked token, or a
disabled account, answers 401. Roles and organizations apply as on the pages: an
object of another organization answers 404, an operation outside the account's
role 403. Errors share one body (`code`, `status`, `message` in the request's
language — `?lang=ar|fr|en` — `detail`, and field-level `errors`); invalid values
answer 422, a conflict with the state of the data 409.
"""


class JessrApi(Api):
    """flask-smorest's Api with our error body and no catch-all ``default`` response:
    every status an operation answers is documented on it."""

    ERROR_SCHEMA = ApiError
    DEFAULT_ERROR_RESPONSE_NAME = None  # type: ignore[assignment]


class ApiBlueprint(Blueprint):
    """A blueprint whose bodies are read by :class:`web.api.errors.Parser`."""

    ARGUMENTS_PARSER = Parser()


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="Jessr API")
api = JessrApi()


def errors(*codes: int) -> Callable[[F], F]:
    """Document the error answers ``codes`` of an operation (401 always)."""

    def document(view: F) -> F:
        for code in sorted({401, *codes}, reverse=True):
            headers = None
            if code == 401:
                headers = {
                    "WWW-Authenticate": {
                        "description": f"The scheme: {REALM}",
                        "schema": {"type": "string"},
                    }
                }
            view = bp.alt_response(
                code,
                schema=ApiError,
                description=http.HTTPStatus(code).phrase,
                headers=headers,
            )(view)
        return view

    return document


def init_app(app: Flask) -> None:
    from web.api import batches, contacts, deliveries, donations, me, requests  # noqa: F401
    from web.api.errors import register
    from web.extensions import csrf

    app.config.setdefault("API_TITLE", "Jessr")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": DESCRIPTION},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    if not bp.error_handler_spec:
        register(bp)
    api.init_app(app)
    api.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens only: no cookie, so no cross-site forgery
    EXTENSION_RULES["api-docs.openapi_json"] = PUBLIC
