"""``GET /api/v1/me``: the account a bearer token belongs to."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from web.access import roles
from web.api import bp, errors
from web.api.schemas import Me
from web.api.shapes import me_view


@bp.route("/me", tags=["account"])
@bp.response(200, Me)
@errors()
@roles("admin", "coordinator", "staff", "volunteer")
def me() -> Any:
    """The account the bearer token belongs to."""
    return me_view(current_user.user)
