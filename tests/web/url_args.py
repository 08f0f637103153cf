"""How the access matrix fills each URL argument from the world.

``ARGS[name] = (own, other)``: functions of the :class:`World` giving the value of
an object of the signed-in user's organization and of the other organization.
``other`` is None for objects that belong to no organization (a batch is
national). A route with an argument missing here fails the matrix: add it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.world import World

Getter = Callable[[World], Any]


def _own(key: str) -> Getter:
    return lambda w: w.ids["own"][key]


def _other(key: str) -> Getter:
    return lambda w: w.ids["other"][key]


ARGS: dict[str, tuple[Getter, Getter | None]] = {
    "token": (lambda w: "not-a-real-token", None),
    "filename": (lambda w: "css/jessr.css", None),
    "batch_id": (lambda w: w.published_batch, None),
    "job_id": (lambda w: w.batch_job, None),
    "lot_id": (_own("lot_id"), _other("lot_id")),
    "request_id": (_own("request_id"), _other("request_id")),
    "volunteer_id": (_own("volunteer_id"), _other("volunteer_id")),
    "allocation_id": (_own("allocation_id"), _other("allocation_id")),
    "site_id": (_own("site_id"), _other("site_id")),
    "user_id": (_own("user_id"), _other("user_id")),
    "org": (_own("org"), _other("org")),
    "category_id": (lambda w: "food.basket", None),  # the catalogue is national
}
