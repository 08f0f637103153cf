"""The route page's offline pieces: the service worker served at ``/volunteer/sw.js``
(scope, type, no caching of stale versions, CSP-compatible), the page's scripts as
files (no inline script), and the DOM hooks the scripts and browser tests use."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.web.volunteer_support import ROUTE

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
SCRIPTS = ("js/volunteer-sw.js", "js/volunteer-route.js", "js/volunteer-queue.js")


@pytest.mark.parametrize("role", [None, "volunteer", "coordinator"])
def test_the_service_worker_is_served_from_its_scope(signed_in: Any, role: str | None) -> None:
    response = signed_in(role).get("/volunteer/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/volunteer/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "worker-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.get_data(as_text=True) == (STATIC / SCRIPTS[0]).read_text(encoding="utf-8")
    again = signed_in(role).get(
        "/volunteer/sw.js", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_the_route_page_loads_its_scripts_as_files_and_names_its_hooks(signed_in: Any) -> None:
    client = signed_in("volunteer")
    html = client.get(ROUTE).get_data(as_text=True)
    for script in SCRIPTS[1:]:
        assert f'<script src="/static/{script}" defer></script>' in html
        served = client.get(f"/static/{script}")
        assert served.status_code == 200 and "javascript" in served.mimetype
        served.close()
    assert 'id="sync-status"' in html and 'data-state="idle"' in html
    config = re.search(
        r'<script type="application/json" id="volunteer-config">(.*?)</script>', html
    )
    assert config and '"swUrl": "/volunteer/sw.js"' in config.group(1)
    assert '"scope": "/volunteer/"' in config.group(1)
    for hook in ('data-mark="picked_up"', 'data-mark="delivered"', 'data-mark="failed"'):
        assert hook in html
    assert re.search(r'data-allocation="\d+" data-action="pickup" data-status="planned"', html)
    assert "data-pending hidden" in html


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to parse the scripts")
@pytest.mark.parametrize("script", SCRIPTS)
def test_the_scripts_parse(script: str) -> None:
    done = subprocess.run(
        ["node", "--check", str(STATIC / script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
