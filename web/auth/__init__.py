"""Signing in and out: the password form, one-time links, the language switch."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from web.auth import views  # noqa: E402,F401  (registers the routes)
