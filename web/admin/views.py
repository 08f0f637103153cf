"""The admin home: what each admin page is for."""

from __future__ import annotations

from typing import Any

from flask import render_template

from web.access import roles
from web.admin import bp


@bp.route("/")
@roles("admin")
def index() -> Any:
    return render_template("admin/index.html")
