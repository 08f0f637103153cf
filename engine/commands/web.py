"""The web server and API tokens: ``jessr serve``, ``jessr token create``."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr serve`` and ``jessr token create``."""
    from engine.cli import positive_int

    serve = sub.add_parser(
        "serve", help="the web interface and API on a production server (gunicorn)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=5000, help="port (5000)")
    serve.add_argument(
        "--workers", type=positive_int, default=2, help="gunicorn worker processes (2)"
    )
    serve.add_argument(
        "--threads", type=positive_int, default=4, help="threads per worker process (4)"
    )
    serve.set_defaults(func=_serve)

    token = sub.add_parser("token", help="API bearer tokens: jessr token create EMAIL")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="print a new bearer token for an account")
    create.add_argument("email")
    create.add_argument("--name", help="what the token is for (shown in the archive)")
    create.add_argument("--days", type=positive_int, default=90, help="days until it expires (90)")
    create.set_defaults(func=_token_create)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 1..65535, got {value}")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _gunicorn_version() -> tuple[int, ...]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return tuple(int(p) for p in version("gunicorn").split(".")[:2] if p.isdigit())
    except PackageNotFoundError:
        return ()


def _serve(ns: argparse.Namespace) -> int:
    """Check the database, then replace this process with gunicorn serving ``web.wsgi:app``.

    The engine does not import ``web`` (the arrows point down): gunicorn loads it by
    name. Cookies are Secure unless the server listens on loopback only (the demo);
    set ``JESSR_SECURE_COOKIES`` to decide otherwise.
    """
    import shutil

    from engine.commands._common import load_settings
    from engine.db.session import open_database

    settings = load_settings()
    open_database(settings).close()  # un-migrated: one line, exit 2
    settings.secret_key  # noqa: B018  (creates var/secret.key once, before workers race)
    env = dict(os.environ)
    if settings.secure_cookies is None:
        env["JESSR_SECURE_COOKIES"] = "0" if _is_loopback(ns.host) else "1"
    bind = f"[{ns.host}]:{ns.port}" if ":" in ns.host else f"{ns.host}:{ns.port}"
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(ns.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(ns.threads),
        "--timeout",
        "120",
        "--access-logfile",
        "-",
        "web.wsgi:app",
    ]
    if _gunicorn_version() >= (27,):
        # Its control socket would be written under $HOME; a server here needs none.
        args.insert(-1, "--no-control-socket")
    if shutil.which(sys.executable) is None:  # pragma: no cover - always there
        print("jessr: serve: cannot find the Python interpreter", file=sys.stderr)
        return 2
    print(f"Jessr serving on http://{bind} (gunicorn, {ns.workers} workers)", flush=True)
    os.execve(sys.executable, args, env)
    return 0  # pragma: no cover - execve does not return


def _token_create(ns: argparse.Namespace) -> int:
    from engine import accounts
    from engine.commands._common import operation

    with operation() as (settings, session):
        token = accounts.create_api_token(
            session, settings.actor, ns.email, name=ns.name, days=ns.days
        )
    print(token)
    return 0
