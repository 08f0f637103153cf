"""The volunteer pages (``/volunteer/…``): the route of the day on a phone, its marks
(offline-capable), household contact reveals, and the volunteer's availability."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("volunteer", __name__, url_prefix="/volunteer", template_folder="templates")


def init_app(app: Flask) -> None:
    from web import nav
    from web.volunteer import availability, offline, views  # noqa: F401  (registers the routes)

    app.register_blueprint(bp)
    nav.add(app, "volunteer.index", _l("My route"), roles=("volunteer",), order=10)
    nav.add(app, "volunteer.availability", _l("My availability"), roles=("volunteer",), order=20)
