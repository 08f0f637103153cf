"""The day's batch, for coordinators (``/coordinator/batches/…``): run it as a
background job with its progress, review the draft, adjust, publish, the history
and the printable route sheets. A blueprint nested in ``coordinator``."""

from flask import Blueprint

bp = Blueprint("batch", __name__, url_prefix="/batches", template_folder="templates")

from web.coordinator.batch import views  # noqa: E402,F401  (registers the routes)
