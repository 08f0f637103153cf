"""Coordinator pages."""

from __future__ import annotations

from typing import Any

from flask import render_template

from web.access import roles
from web.coordinator import bp


@bp.route("/")
@roles("coordinator", "staff", "admin")
def index() -> Any:
    return render_template("coordinator/index.html")
