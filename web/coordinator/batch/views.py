"""Batch pages."""

from __future__ import annotations

from typing import Any

from flask import render_template

from web.access import roles
from web.coordinator.batch import bp


@bp.route("/")
@roles("coordinator", "admin")
def history() -> Any:
    return render_template("coordinator/batch/history.html")
