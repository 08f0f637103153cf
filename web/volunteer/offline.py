"""The route page's service worker, served from ``/volunteer/sw.js``.

A service worker controls the pages under the folder its script is served from,
so the script is served here (scope ``/volunteer/``) rather than from ``/static``
(whose scope would be ``/static/js/``). The route is public, like ``/static``: the
script holds no data, and a browser checking for a new version after the session
ended must get the script, not a redirect to the sign-in page (which would fail
the update check). ``no-cache`` makes every check reach the server (the ETag keeps
it cheap), so a new version replaces the old one at the next visit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, current_app, request, url_for

from web.access import public
from web.volunteer import bp

SCRIPT = "js/volunteer-sw.js"


@bp.route("/sw.js")
@public
def service_worker() -> Any:
    """The service worker script (``text/javascript``, scope ``/volunteer/``)."""
    assert current_app.static_folder is not None
    text = (Path(current_app.static_folder) / SCRIPT).read_text(encoding="utf-8")
    response = Response(text, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = url_for("volunteer.index")
    response.add_etag()
    return response.make_conditional(request)
