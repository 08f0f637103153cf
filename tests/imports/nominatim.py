"""A local HTTP server answering ``/search`` as Nominatim does (``format=json``).

It knows :data:`KNOWN` (query, case-folded -> result), answers ``[]`` for anything
else, and an HTTP 500 for the query ``boom``; every query it receives is recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

# What the fake Nominatim knows: query -> its JSON result (format=json, as Nominatim).
KNOWN = {
    "rue de marseille 12, tunis": {
        "place_id": 1,
        "lat": "36.8008",
        "lon": "10.1817",
        "display_name": "12, Rue de Marseille, Tunis, Tunisie",
        "class": "building",
        "type": "yes",
        "place_rank": 30,
        "addresstype": "building",
    },
    "sfax": {
        "place_id": 2,
        "lat": "34.7406",
        "lon": "10.7603",
        "display_name": "Sfax, Tunisie",
        "class": "place",
        "type": "city",
        "place_rank": 16,
        "addresstype": "city",
    },
    "douar ouled ali": {  # an old Nominatim answer without place_rank: a hamlet
        "place_id": 3,
        "lat": "35.1",
        "lon": "8.8",
        "display_name": "Douar Ouled Ali, Kasserine, Tunisie",
        "class": "place",
        "type": "hamlet",
    },
}


@dataclass
class FakeNominatim:
    url: str
    queries: list[dict[str, list[str]]] = field(default_factory=list)


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    state = FakeNominatim("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            state.queries.append(query)
            text = query.get("q", [""])[0].casefold()
            if parts.path != "/search":
                self.send_error(404)
                return
            if text == "boom":
                self.send_error(500, "database offline")
                return
            body = json.dumps([KNOWN[text]] if text in KNOWN else []).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"nominatim+http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
