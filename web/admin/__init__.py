"""The admin pages (`/admin/…`)."""

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def init_app(app: Flask) -> None:
    from web.admin import views  # noqa: F401  (registers the routes)

    app.register_blueprint(bp)
