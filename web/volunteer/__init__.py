"""The volunteer pages (`/volunteer/…`)."""

from flask import Blueprint, Flask

bp = Blueprint("volunteer", __name__, url_prefix="/volunteer", template_folder="templates")


def init_app(app: Flask) -> None:
    from web.volunteer import views  # noqa: F401  (registers the routes)

    app.register_blueprint(bp)
