"""API endpoints."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields

from web.access import roles
from web.api import bp


class MeSchema(Schema):
    email = fields.String(required=True)
    role = fields.String(required=True)


@bp.route("/me")
@bp.response(200, MeSchema)
@roles("admin", "coordinator", "staff", "volunteer")
def me() -> Any:
    """The account the bearer token belongs to."""
    return {"email": current_user.email, "role": current_user.role}
