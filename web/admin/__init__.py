"""The admin pages (``/admin/…``), for the admin role only: imports (upload, preview,
commit), records (organizations and their sites, accounts, categories) and the
archive (search, verify, traces). Views are thin: the services in ``engine`` check
the actor, validate and archive every change."""

from typing import Any

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def init_app(app: Flask) -> None:
    from web import nav
    from web.admin import archive, categories, imports, organizations, users, views  # noqa: F401

    app.register_blueprint(bp)
    nav.add(app, "admin.index", _l("Administration"), roles=("admin",), order=80)


def _too_large(exc: Any) -> Any:
    from flask_babel import gettext

    from web import MAX_UPLOAD_BYTES
    from web.errors import answer

    limit = MAX_UPLOAD_BYTES // (1024 * 1024)
    return answer(413, gettext("Import files up to %(mb)d MB are accepted.", mb=limit))


bp.register_error_handler(413, _too_large)
