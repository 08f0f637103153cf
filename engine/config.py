"""Platform configuration, read from the environment (the spec's Configuration table).

- ``JESSR_DATABASE_URL``: SQLAlchemy URL (default ``sqlite:///<cwd>/var/jessr.db``;
  ``postgresql://…`` uses psycopg 3).
- ``JESSR_BROKER_URL``: Celery broker (default none: everything in-process).
- ``JESSR_SECRET_KEY``: web sessions and signed links (default ``var/secret.key``,
  generated once, mode 0600).
- ``JESSR_HOUSEHOLD_KEY``: HMAC key of household pseudonyms (default
  ``var/household.key``, generated once, mode 0600).
- ``JESSR_GEOCODER``: ``nominatim+https://host`` or ``nominatim+http://127.0.0.1:PORT``
  (default none).
- ``JESSR_RETENTION_DAYS``: days personal data is kept after a request closes (180).
- ``JESSR_DUPLICATE_WINDOW_DAYS``: days within which a second open request of one
  household and category is refused (14).
- ``JESSR_ACTOR``: the actor the command line records for its changes
  (default ``cli:<login name>``).
- ``JESSR_SESSION_IDLE_MINUTES`` / ``JESSR_SESSION_MAX_HOURS``: a web session ends
  after this long without a request (120) / after sign-in (12).
- ``JESSR_TILE_URL``: map tile server template (``https://host/{z}/{x}/{y}.png``;
  default none: maps draw routes and stops without a background).
- ``JESSR_SECURE_COOKIES``: ``1`` marks cookies Secure (HTTPS only), ``0`` does not;
  default: Secure unless ``jessr serve`` listens on a loopback address.
- ``JESSR_RATELIMIT_STORAGE_URL``: where login attempts are counted (default: the
  broker when it is Redis, else the web worker's memory).

The household key is kept outside the database on purpose: a database dump alone
cannot be used to test guessed identifiers against the pseudonyms.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InputError

DEFAULT_RETENTION_DAYS = 180
DEFAULT_DUPLICATE_WINDOW_DAYS = 14


@dataclass(frozen=True)
class Settings:
    """The platform's settings; build with :meth:`from_env`."""

    base_dir: Path
    database_url: str
    broker_url: str | None = None
    geocoder: str | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    duplicate_window_days: int = DEFAULT_DUPLICATE_WINDOW_DAYS
    actor: str = "cli"
    session_idle_minutes: int = 120
    session_max_hours: int = 12
    tile_url: str | None = None
    secure_cookies: bool | None = None
    ratelimit_storage_url: str | None = None
    secret_key_text: str | None = field(default=None, repr=False)
    household_key_text: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None
    ) -> Settings:
        """Settings from ``environ`` (default ``os.environ``), relative to ``cwd``."""
        env = os.environ if environ is None else environ
        base = Path(cwd if cwd is not None else os.getcwd()).resolve()
        url = env.get("JESSR_DATABASE_URL") or f"sqlite:///{base / 'var' / 'jessr.db'}"
        return cls(
            base_dir=base,
            database_url=url,
            broker_url=broker_url(env.get("JESSR_BROKER_URL") or None, "JESSR_BROKER_URL"),
            geocoder=env.get("JESSR_GEOCODER") or None,
            retention_days=_nonnegative(env, "JESSR_RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
            duplicate_window_days=_nonnegative(
                env, "JESSR_DUPLICATE_WINDOW_DAYS", DEFAULT_DUPLICATE_WINDOW_DAYS
            ),
            actor=env.get("JESSR_ACTOR") or _login_actor(),
            session_idle_minutes=_positive(env, "JESSR_SESSION_IDLE_MINUTES", 120),
            session_max_hours=_positive(env, "JESSR_SESSION_MAX_HOURS", 12),
            tile_url=env.get("JESSR_TILE_URL") or None,
            secure_cookies=_flag(env, "JESSR_SECURE_COOKIES"),
            ratelimit_storage_url=env.get("JESSR_RATELIMIT_STORAGE_URL") or None,
            secret_key_text=env.get("JESSR_SECRET_KEY") or None,
            household_key_text=env.get("JESSR_HOUSEHOLD_KEY") or None,
        )

    @property
    def var_dir(self) -> Path:
        """The working directory's ``var/`` folder (default database, key files)."""
        return self.base_dir / "var"

    @property
    def secret_key(self) -> bytes:
        """``JESSR_SECRET_KEY``, else ``var/secret.key`` (generated once, mode 0600)."""
        from engine.households import load_or_create_key

        environ = {"JESSR_SECRET_KEY": self.secret_key_text} if self.secret_key_text else {}
        try:
            return load_or_create_key(
                self.var_dir / "secret.key", environ, variable="JESSR_SECRET_KEY", what="secret key"
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None

    @property
    def household_key(self) -> bytes:
        """``JESSR_HOUSEHOLD_KEY``, else ``var/household.key`` (generated once, mode 0600).

        One implementation with ``engine.households.load_or_create_key`` (it is
        called here): a value of 64 or more hex digits is decoded, another value is
        its UTF-8 bytes; the file holds 32 raw random bytes. A bad key file is an
        ``InputError`` (exit 2) naming it.
        """
        from engine.households import ENV_VAR, load_or_create_key

        environ = {ENV_VAR: self.household_key_text} if self.household_key_text else {}
        try:
            return load_or_create_key(self.var_dir / "household.key", environ)
        except ValueError as exc:
            raise InputError(str(exc)) from None


BROKER_SCHEMES = ("redis://", "rediss://", "unix://")


def broker_url(url: str | None, name: str) -> str | None:
    """``url`` if it names a Redis broker (or None); else :class:`InputError` naming ``name``.

    The scale-out's broker is Redis: its parts' inputs and answers live there too.
    """
    if url is not None and not url.startswith(BROKER_SCHEMES):
        raise InputError(f"{name}: expected a Redis URL (redis://host:6379/0), got {url[:60]!r}")
    return url


def _nonnegative(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name}: expected a whole number of days, got {text!r}") from None
    if value < 0:
        raise InputError(f"{name}: expected a whole number of days >= 0, got {text!r}")
    return value


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _nonnegative(env, name, default)
    if value == 0:
        raise InputError(f"{name}: expected a whole number >= 1, got {env.get(name)!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    text = (env.get(name) or "").strip().lower()
    if text == "":
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{name}: expected 1 or 0, got {env.get(name)!r}")


def _login_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"
