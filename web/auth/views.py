"""``/login``, ``/logout``, ``/login/link/<token>`` and ``/`` (each role's home)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from engine import accounts
from engine.models.people import User
from web.access import public
from web.auth import bp
from web.auth.forms import LoginForm
from web.db import db_session
from web.extensions import limiter
from web.login import WebUser

HOMES = {
    "admin": "admin.index",
    "coordinator": "coordinator.index",
    "staff": "coordinator.index",
    "volunteer": "volunteer.index",
}


def home_of(role: str) -> str:
    """The URL a role lands on after signing in."""
    return url_for(HOMES[role])


def _safe_next(target: str | None, role: str) -> str:
    """``next`` when it is a path on this site, else the role's home."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return home_of(role)


def _sign_in(user: User, how: str) -> None:
    """A fresh session: whatever the cookie held before sign-in is dropped, and a
    session it held (a link opened in a browser already signed in) is ended."""
    if current_user.is_authenticated and current_user.token:
        accounts.end_session(db_session(), current_user.token, reason="replaced")
    lang = session.get("lang")
    session.clear()
    token = accounts.start_session(db_session(), user, how)
    if lang:
        session["lang"] = lang
        accounts.set_locale(db_session(), user, lang)
    login_user(WebUser(user, token))


def _email_key() -> str:
    return (request.form.get("email") or "").strip().lower()[:320] or "-"


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("5 per minute", methods=["POST"], key_func=_email_key)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(home_of(current_user.role))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db_session(), form.email.data or "", form.password.data or "")
        if user is not None:
            _sign_in(user, "password")
            return redirect(_safe_next(request.args.get("next"), user.role))
        flash(_("Wrong email or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute")
def login_link(token: str) -> Any:
    """A one-time sign-in link: GET shows a button (link previews must not use it up),
    POST signs in."""
    if request.method == "POST":
        from flask_wtf.csrf import validate_csrf  # noqa: F401  (CSRFProtect checks the form)

        user = accounts.redeem_login_link(db_session(), token)
        if user is None:
            flash(_("This sign-in link has expired or was already used."), "error")
            return render_template("auth/link.html", token=None), 410
        _sign_in(user, "link")
        return redirect(home_of(user.role))
    return render_template("auth/link.html", token=token)


@bp.route("/logout", methods=["GET", "POST"])
@public
def logout() -> Any:
    """GET asks to confirm (a GET never changes state); POST signs out."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/logout.html")
    if current_user.token:
        accounts.end_session(db_session(), current_user.token)
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
@public
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(home_of(current_user.role))
    return redirect(url_for("auth.login"))
