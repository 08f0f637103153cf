"""The day's batch, for coordinators (``/coordinator/batches/…``): run it as a
background job with its progress, review the draft, adjust, publish, the history
and the printable route sheets. A blueprint nested in ``coordinator``."""

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from flask_babel import lazy_gettext as _l

bp = Blueprint("batch", __name__, url_prefix="/batches", template_folder="templates")

from web.coordinator.batch import views  # noqa: E402,F401  (registers the routes)
from web.coordinator.batch.runner import init_blueprint  # noqa: E402

init_blueprint(bp)


@bp.record_once
def _menu(state: BlueprintSetupState) -> None:
    from web import nav

    nav.add(state.app, "coordinator.batch.history", _l("Batches"), ("coordinator", "admin"), 20)
