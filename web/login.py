"""The signed-in user of a request (Flask-Login), backed by ``engine.accounts`` sessions.

The cookie holds the session's random token as Flask-Login's user id (the
"alternative id" pattern), so ending the server-side session — logout, an idle
or absolute timeout, a disabled account — signs the browser out at its next
request. API requests authenticate with ``Authorization: Bearer <token>`` only.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Request, current_app
from flask_login import UserMixin

from engine import accounts
from engine.access import Actor
from engine.models.people import User
from web.access import is_api
from web.db import db_session, settings


class WebUser(UserMixin):
    """A signed-in account as the views see it."""

    def __init__(self, user: User, token: str | None) -> None:
        self.user = user
        self.token = token
        self.actor: Actor = accounts.actor_of(user)

    def get_id(self) -> str | None:
        return self.token

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def locale(self) -> str | None:
        return self.user.locale


def limits() -> accounts.SessionLimits:
    s = settings()
    return accounts.SessionLimits(
        idle=timedelta(minutes=s.session_idle_minutes),
        absolute=timedelta(hours=s.session_max_hours),
    )


def init_app(app: Flask) -> None:
    from web.extensions import login_manager

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # phones change address; sessions are server-side
    login_manager.login_message = None  # type: ignore[assignment]

    @login_manager.user_loader
    def _load(token: str) -> WebUser | None:
        from flask import request

        if is_api(request.path):
            return None  # the API takes bearer tokens, not cookies
        user = accounts.session_user(db_session(), token, limits())
        return WebUser(user, token) if user is not None else None

    @login_manager.request_loader
    def _bearer(request: Request) -> WebUser | None:
        if not is_api(request.path):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        user = accounts.api_token_user(db_session(), token.strip())
        if user is None:
            current_app.logger.info("refused a bearer token")
            return None
        return WebUser(user, None)
