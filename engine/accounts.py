"""Signing in: passwords, browser sessions, one-time links and API tokens.

Services here take a session and never commit (the request commits once). Every
secret handed out (session token, link, API token) is random
(:func:`secrets.token_urlsafe`, 256 bits) and only its SHA-256 is stored.

Sessions end at logout, when the account is disabled (:func:`set_active`), after
``idle`` without use and ``absolute`` after sign-in (``JESSR_SESSION_IDLE_MINUTES``,
``JESSR_SESSION_MAX_HOURS``). Sign-ins, sign-outs, links and tokens are archive
events (no secret in them).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.db.base import as_utc, utcnow
from engine.errors import FieldError, InputError, NotFound
from engine.models.accounts import ApiToken, LoginLink, UserSession
from engine.models.people import User
from engine.users import MIN_PASSWORD_LENGTH, hash_password, user_view, verify_password

# last_seen_at is written at most this often (not on every request).
TOUCH_EVERY = timedelta(seconds=60)
# A hash to verify against when the email is unknown, so that a wrong email costs
# as long as a wrong password (no account enumeration by timing).
_DUMMY_HASH: str | None = None


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a handed-out token: what the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (URL-safe, 43 characters)."""
    return secrets.token_urlsafe(32)


def actor_of(user: User) -> Actor:
    """The :class:`Actor` a signed-in ``user`` acts as."""
    return Actor(
        label=user.email,
        role=user.role,
        user_id=user.id,
        org_id=user.org_id,
        volunteer_id=user.volunteer_id,
    )


def find_user(session: Session, email: str) -> User | None:
    """The account of ``email`` (case-insensitive), or None."""
    return session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active account whose email and password match, else None (same cost either way)."""
    global _DUMMY_HASH
    user = find_user(session, email) if len(email) <= 320 else None
    if user is None or user.password_hash is None or not user.active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("not a password of anyone")
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


@dataclass(frozen=True)
class SessionLimits:
    """How long a browser session lives without use, and at most."""

    idle: timedelta = timedelta(minutes=120)
    absolute: timedelta = timedelta(hours=12)


def start_session(session: Session, user: User, how: str = "password") -> str:
    """Open a browser session for ``user``; returns its token (for the cookie)."""
    token = new_token()
    session.add(UserSession(token_sha256=token_hash(token), user_id=user.id))
    audit.record(session, user.email, "user.login", "user", user.id, after={"by": how})
    return token


def session_user(
    session: Session, token: str, limits: SessionLimits, now: datetime | None = None
) -> User | None:
    """The user of a live session ``token``; None when unknown, ended, idle, too old
    or its account is disabled (an expired session is ended on the way)."""
    now = now or utcnow()
    row = session.execute(
        select(UserSession).where(UserSession.token_sha256 == token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None
    user = session.get(User, row.user_id)
    reason = None
    if user is None or not user.active:
        reason = "disabled"
    elif now - as_utc(row.created_at) > limits.absolute:
        reason = "expired"
    elif now - as_utc(row.last_seen_at) > limits.idle:
        reason = "idle"
    if reason is not None:
        row.ended_at, row.ended_reason = now, reason
        return None
    if now - as_utc(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
    return user


def end_session(session: Session, token: str, reason: str = "logout") -> None:
    """End the session ``token`` (logout); unknown or ended tokens are ignored."""
    row = session.execute(
        select(UserSession).where(UserSession.token_sha256 == token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return
    row.ended_at, row.ended_reason = utcnow(), reason
    user = session.get(User, row.user_id)
    if user is not None and reason == "logout":
        audit.record(session, user.email, "user.logout", "user", user.id)


def end_sessions_of(session: Session, user_id: int, reason: str) -> int:
    """End every live session of an account; returns how many."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    return int(result.rowcount or 0)


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Enable or disable an account (admin); disabling ends its sessions and tokens."""
    require_role(actor, "admin")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if not active and actor.user_id is not None and actor.user_id == user.id:
        # An admin locking themselves out could leave nobody to undo it.
        raise FieldError("active", "self_disable", "you cannot disable your own account")
    before = user_view(session, user)
    if user.active == active:
        return user  # nothing changes: no event
    user.active = active
    if not active:
        end_sessions_of(session, user.id, "disabled")
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    session.flush()
    audit.record(
        session,
        actor.label,
        "user.update",
        "user",
        user.id,
        before=before,
        after=user_view(session, user),
    )
    return user


def reset_password(session: Session, actor: Actor, user_id: int, password: str) -> User:
    """Set a new password for an account (admin) and end its browser sessions, so that
    whoever signed in with the old one is signed out. The archive records that the
    password was reset, never the password nor its hash."""
    require_role(actor, "admin")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError(
            "password",
            "short",
            f"at least {MIN_PASSWORD_LENGTH} characters",
            min=MIN_PASSWORD_LENGTH,
        )
    user.password_hash = hash_password(password)
    ended = end_sessions_of(session, user.id, "password")
    session.flush()
    audit.record(
        session,
        actor.label,
        "user.password",
        "user",
        user.id,
        after={"password": "reset", "sessions_ended": ended},
    )
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    """Remember ``user``'s interface language (no archive event: not a record change)."""
    user.locale = locale


def create_login_link(
    session: Session, actor: Actor, user: User, ttl: timedelta = timedelta(hours=24)
) -> str:
    """A one-time sign-in link token for a volunteer account (sent by SMS)."""
    require_role(actor, "coordinator")
    if user.role != "volunteer":
        raise InputError("sign-in links are for volunteer accounts")
    if not actor.is_admin and user.org_id != actor.org_id:
        raise NotFound("no such user")
    token = new_token()
    session.add(
        LoginLink(
            token_sha256=token_hash(token),
            user_id=user.id,
            created_by=actor.label,
            expires_at=utcnow() + ttl,
        )
    )
    audit.record(
        session,
        actor.label,
        "user.link",
        "user",
        user.id,
        after={"expires_in_s": ttl.total_seconds()},
    )
    return token


def redeem_login_link(session: Session, token: str) -> User | None:
    """The active account of an unused, unexpired link (now used), else None."""
    row = session.execute(
        select(LoginLink).where(LoginLink.token_sha256 == token_hash(token))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.used_at is not None or as_utc(row.expires_at) < now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.used_at = now
    return user


def create_api_token(
    session: Session, actor_label: str, email: str, name: str | None = None, days: int | None = 90
) -> str:
    """A bearer token of the API for the account ``email`` (``jessr token create``)."""
    user = find_user(session, email)
    if user is None:
        raise InputError(f"no user {email.strip().lower()!r}")
    if not user.active:
        raise InputError(f"the account {user.email} is disabled")
    token = new_token()
    expires = utcnow() + timedelta(days=days) if days else None
    session.add(
        ApiToken(token_sha256=token_hash(token), user_id=user.id, name=name, expires_at=expires)
    )
    audit.record(
        session,
        actor_label,
        "token.create",
        "user",
        user.id,
        after={"name": name, "expires_at": expires},
    )
    return token


def api_token_user(session: Session, token: str) -> User | None:
    """The active account of a live bearer token, else None."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_sha256 == token_hash(token))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and as_utc(row.expires_at) < now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - as_utc(row.last_used_at) > TOUCH_EVERY:
        row.last_used_at = now
    return user
