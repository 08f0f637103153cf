"""Who may open which endpoint: one declared rule per view, enforced before it runs.

Every view is decorated with :func:`roles` (the roles that may open it) or
:func:`public`. :func:`check_access` runs before every request and refuses an
endpoint without a declared rule (fail closed); ``tests/web/test_access_matrix``
walks ``app.url_map`` and fails for any route without one. This is the coarse
gate; the services check each object against the actor's organization
(``engine.access``), so a volunteer asking for another's route by id gets a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = frozenset({"*"})
ATTRIBUTE = "_jessr_access"
# Endpoints added by extensions rather than by our views.
EXTENSION_RULES: dict[str, frozenset[str]] = {"static": PUBLIC}


def roles(*names: str) -> Callable[[F], F]:
    """Only signed-in accounts with one of ``names`` may open the view."""
    if not names:
        raise ValueError("roles(): name at least one role")

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, frozenset(names))
        return view

    return mark


def public(view: F) -> F:
    """Anyone may open the view (the login page, the language switch)."""
    setattr(view, ATTRIBUTE, PUBLIC)
    return view


def rule_of(app: Flask, endpoint: str) -> frozenset[str] | None:
    """The declared rule of ``endpoint``, or None when it has none."""
    if endpoint in EXTENSION_RULES:
        return EXTENSION_RULES[endpoint]
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    rule = getattr(view, ATTRIBUTE, None)
    if rule is None and hasattr(view, "view_class"):
        rule = getattr(view.view_class, ATTRIBUTE, None)
    return rule


def is_api(path: str | None = None) -> bool:
    """True for a request to the JSON API."""
    return (path if path is not None else request.path).startswith("/api/")


def check_access() -> Any:
    """``before_request``: refuse the request unless the endpoint's rule admits the user."""
    endpoint = request.endpoint
    if endpoint is None:  # no route: the 404 handler answers
        return None
    rule = rule_of(current_app, endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s has no access rule; refused", endpoint)
        abort(403)
    if rule is PUBLIC or "*" in rule:
        return None
    if not current_user.is_authenticated:
        if is_api():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.role not in rule:
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(check_access)
