"""The JSON API under ``/api/v1`` (flask-smorest): bearer tokens, OpenAPI 3 generated
from the marshmallow schemas that validate the requests
(``/api/v1/openapi.json``)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api, Blueprint

from web.access import EXTENSION_RULES, PUBLIC

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Jessr API")
api = Api()


def init_app(app: Flask) -> None:
    from web.api import views  # noqa: F401  (registers the routes)
    from web.extensions import csrf

    app.config.setdefault("API_TITLE", "Jessr")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    api.init_app(app)
    api.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens only: no cookie, so no cross-site forgery
    EXTENSION_RULES["api-docs.openapi_json"] = PUBLIC
