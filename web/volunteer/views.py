"""Volunteer pages."""

from __future__ import annotations

from typing import Any

from flask import render_template

from web.access import roles
from web.volunteer import bp


@bp.route("/")
@roles("volunteer")
def index() -> Any:
    return render_template("volunteer/index.html")
