"""The coordinator pages (`/coordinator/…`)."""

from flask import Blueprint, Flask

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator", template_folder="templates")


def init_app(app: Flask) -> None:
    from web.coordinator import views  # noqa: F401  (registers the routes)

    app.register_blueprint(bp)
