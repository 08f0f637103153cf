"""Jessr's web interface: a thin Flask layer over the ``engine`` services.

``create_app(settings)`` is the application factory (``web.wsgi:app`` for
gunicorn, started by ``jessr serve``). One blueprint per user group — ``auth``,
``coordinator``, ``volunteer``, ``admin``, ``api`` — each with its views, forms,
templates and translations. Views call services with the request's session and
the signed-in :class:`engine.access.Actor`; the request commits once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from engine.config import Settings

BLUEPRINTS = ("auth", "coordinator", "volunteer", "admin", "api")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _ratelimit_storage(settings: Settings) -> str:
    if settings.ratelimit_storage_url:
        return settings.ratelimit_storage_url
    if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
        return settings.broker_url
    return "memory://"


def create_app(settings: Settings | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app over the database of ``settings`` (default: the environment).

    ``config`` overrides Flask settings (tests pass ``TESTING``,
    ``WTF_CSRF_ENABLED``…). Refuses an un-migrated database (``NotMigrated``).
    """
    from engine.db.session import open_database

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    secure = settings.secure_cookies if settings.secure_cookies is not None else True
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="jessr_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session, which has its own timeouts
        WTF_CSRF_SSL_STRICT=True,
        RATELIMIT_STORAGE_URI=_ratelimit_storage(settings),
        RATELIMIT_HEADERS_ENABLED=True,
        JESSR_TILE_URL=settings.tile_url,
    )
    if config:
        app.config.update(config)
    app.extensions["jessr.settings"] = settings
    app.extensions["jessr.database"] = open_database(settings)

    from web import access, db, errors, i18n, labels, login, nav, security
    from web.extensions import csrf, limiter

    db.init_app(app)
    nav.init_app(app)
    labels.init_app(app)
    i18n.init_app(app)
    login.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    access.init_app(app)
    security.init_app(app, settings)
    for name in BLUEPRINTS:
        module = __import__(f"web.{name}", fromlist=["init_app", "bp"])
        if hasattr(module, "init_app"):
            module.init_app(app)
        else:
            app.register_blueprint(module.bp)
    errors.init_app(app)  # after the API's, so that pages answer in HTML
    return app
