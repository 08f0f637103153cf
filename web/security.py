"""Response headers every answer carries, and the session cookie's settings.

- A Content-Security-Policy with no inline script or style: every script is a
  file under ``/static`` (so an injected ``<script>`` cannot run), frames are
  refused (``frame-ancestors 'none'``); images may come from the configured map
  tile server.
- ``nosniff``, no referrer outside the site, HSTS when the request came over TLS.
- ``Cache-Control: no-store`` on every answer to a signed-in user (pages may hold
  personal data) unless the view set its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_login import current_user

from engine.config import Settings


def content_security_policy(tile_url: str | None) -> str:
    img = ["'self'", "data:"]
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        img.append(f"{parts.scheme}://{host}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(img)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "worker-src 'self'",
            "manifest-src 'self'",
        ]
    )


def init_app(app: Flask, settings: Settings) -> None:
    policy = content_security_policy(settings.tile_url)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static" and current_user.is_authenticated:
            headers.setdefault("Cache-Control", "no-store")
        return response
