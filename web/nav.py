"""The main menu: each blueprint adds its entries, shown to the roles they name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy_gettext string, translated when shown
    roles: frozenset[str]
    order: int = 100


def add(app: Flask, endpoint: str, label: Any, roles: tuple[str, ...], order: int = 100) -> None:
    """Add a menu entry to ``endpoint`` (a view without URL arguments) for ``roles``."""
    app.extensions.setdefault("jessr.nav", []).append(
        NavItem(endpoint, label, frozenset(roles), order)
    )


def nav_items() -> list[NavItem]:
    """The entries the signed-in user's role sees, in order."""
    if not current_user.is_authenticated:
        return []
    items = current_app.extensions.get("jessr.nav", [])
    return sorted(
        (i for i in items if current_user.role in i.roles), key=lambda i: (i.order, i.endpoint)
    )


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
