"""The coordinator pages (``/coordinator/…``): today's dashboard, entering donations,
requests and volunteers; the day's batch lives in the nested ``batch`` blueprint."""

from flask import Blueprint, Flask

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator", template_folder="templates")

from web.coordinator import entries, lists, views  # noqa: E402,F401  (register the routes)
from web.coordinator.batch import bp as batch_bp  # noqa: E402

bp.register_blueprint(batch_bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    views.add_menu(app)
