"""Services for user accounts (``jessr user add``, the admin pages) and password
hashing (Argon2id).

The functions taking an :class:`~engine.access.Actor` serve the web: they check the
actor's role and report bad input as :class:`~engine.errors.FieldError` before
writing through the same code as the command line.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.errors import ConflictError, FieldError, InputError, NotFound
from engine.models.people import ROLES, User, Volunteer
from engine.models.reference import Organization
from engine.organizations import get_organization

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (argon2-cffi's recommended parameters)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_volunteer(session: Session, ref: str, org: Organization | None) -> Volunteer:
    """The volunteer ``ORG/REF``, or ``REF`` within ``org``; else an InputError."""
    if "/" in ref:
        org_code, _, local = ref.partition("/")
        owner = get_organization(session, org_code)
        if org is not None and owner.id != org.id:
            raise InputError(f"volunteer: {ref} belongs to {org_code}, not to {org.code}")
    elif org is None:
        raise InputError(f"volunteer: give it as ORG/REF, or give --org (got {ref!r})")
    else:
        owner, local = org, ref
    found = session.execute(
        select(Volunteer).where(Volunteer.org_id == owner.id, Volunteer.ref == local)
    ).scalar_one_or_none()
    if found is None:
        raise InputError(f"volunteer: no volunteer {owner.code}/{local} (import volunteers first)")
    return found


def user_view(session: Session, user: User) -> dict[str, Any]:
    """What the archive records of an account (never the password hash)."""
    org = session.get(Organization, user.org_id) if user.org_id else None
    volunteer = session.get(Volunteer, user.volunteer_id) if user.volunteer_id else None
    return {
        "email": user.email,
        "role": user.role,
        "org": org.code if org else None,
        "volunteer": f"{org.code}/{volunteer.ref}" if volunteer and org else None,
        "password": user.password_hash is not None,
        "active": user.active,
    }


def add_user(
    session: Session,
    email: str,
    role: str,
    actor: str,
    org: str | None = None,
    volunteer: str | None = None,
    password: str | None = None,
) -> User:
    """Add an account. Returns the new user.

    Rules: ``coordinator`` and ``staff`` belong to an organization; a ``volunteer``
    account is linked to a volunteer record (``ORG/REF``, or ``REF`` with ``org``)
    and belongs to its organization; ``--volunteer`` is for volunteer accounts
    only. Without ``password`` nothing is stored for it (no login by password). An
    existing email is a conflict.
    """
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise InputError(f"email: not an email address: {email!r}")
    if role not in ROLES:
        raise InputError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
    owner = get_organization(session, org) if org else None
    linked = None
    if volunteer is not None:
        if role != "volunteer":
            raise InputError(f"volunteer: only a volunteer account is linked to one (role {role})")
        linked = find_volunteer(session, volunteer, owner)
        owner = owner or session.get(Organization, linked.org_id)
    elif role == "volunteer":
        raise InputError("volunteer: a volunteer account needs --volunteer REF")
    if role in ("coordinator", "staff") and owner is None:
        raise InputError(f"org: a {role} account belongs to an organization; give --org")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if session.execute(select(User.id).where(User.email == email)).first() is not None:
        raise ConflictError(f"user {email} already exists")
    if linked is not None:
        taken = session.execute(select(User.email).where(User.volunteer_id == linked.id)).first()
        if taken is not None:
            raise ConflictError(f"volunteer {volunteer} already has the account {taken.email}")
    user = User(
        email=email,
        role=role,
        org_id=owner.id if owner else None,
        volunteer_id=linked.id if linked else None,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", "user", user.id, after=user_view(session, user))
    return user


# -- the admin pages' services (an Actor, field errors)


def list_users(
    session: Session, actor: Actor, org: str | None = None, role: str | None = None
) -> list[User]:
    """Accounts (admin), by email; ``org`` (a code) and ``role`` narrow the list."""
    require_role(actor, "admin")
    query = select(User).order_by(User.email)
    if org:
        query = query.join(Organization, Organization.id == User.org_id).where(
            Organization.code == org
        )
    if role:
        query = query.where(User.role == role)
    return list(session.execute(query).scalars())


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """The account ``user_id`` (admin), else :class:`NotFound`."""
    require_role(actor, "admin")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def create_user(
    session: Session,
    actor: Actor,
    email: str,
    role: str,
    org: str | None = None,
    volunteer: str | None = None,
    password: str | None = None,
) -> User:
    """Add an account (admin): the rules of :func:`add_user`, each broken one reported
    as a field error (``email``, ``role``, ``org``, ``volunteer``, ``password``)."""
    require_role(actor, "admin")
    email = email.strip().lower()
    org = org.strip() if org and org.strip() else None
    volunteer = volunteer.strip() if volunteer and volunteer.strip() else None
    password = password or None
    if not EMAIL_PATTERN.match(email) or len(email) > 320:
        raise FieldError("email", "bad_email", f"not an email address: {email!r}")
    if role not in ROLES:
        raise FieldError("role", "bad_role", f"expected one of {', '.join(ROLES)}, got {role!r}")
    owner = None
    if org is not None:
        owner = session.execute(
            select(Organization).where(Organization.code == org)
        ).scalar_one_or_none()
        if owner is None:
            raise FieldError("org", "unknown_org", f"no organization {org!r}", value=org)
    linked = None
    if volunteer is not None:
        if role != "volunteer":
            raise FieldError(
                "volunteer", "volunteer_only", "only a volunteer account is linked to a volunteer"
            )
        try:
            linked = find_volunteer(session, volunteer, owner)
        except InputError as exc:
            raise FieldError(
                "volunteer", "unknown_volunteer", str(exc).removeprefix("volunteer: "),
                value=volunteer,
            ) from None  # fmt: skip
    elif role == "volunteer":
        raise FieldError("volunteer", "volunteer_required", "a volunteer account needs ORG/REF")
    if role in ("coordinator", "staff") and owner is None:
        raise FieldError("org", "org_required", f"a {role} account belongs to an organization")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError(
            "password", "short", f"at least {MIN_PASSWORD_LENGTH} characters",
            min=MIN_PASSWORD_LENGTH,
        )  # fmt: skip
    if session.execute(select(User.id).where(User.email == email)).first() is not None:
        raise FieldError("email", "email_taken", f"user {email} already exists", value=email)
    if linked is not None:
        taken = session.execute(select(User.email).where(User.volunteer_id == linked.id)).first()
        if taken is not None:
            raise FieldError(
                "volunteer", "volunteer_taken", f"already has the account {taken.email}",
                email=taken.email,
            )  # fmt: skip
    linked_org = session.get(Organization, linked.org_id) if linked is not None else None
    ref = f"{linked_org.code}/{linked.ref}" if linked is not None and linked_org else None
    return add_user(session, email, role, actor.label, org, ref, password)
