"""Who is acting, and what they may touch: roles and organization scope.

Every service a user reaches through the web or the API takes an :class:`Actor`
and checks it object by object with :func:`require_role` and :func:`require_org`;
the views only translate the errors (``Forbidden`` → 403, ``NotFound`` → 404).
An object outside the actor's organization is reported as *not found*, so its
existence is not revealed. The command line acts as :data:`SYSTEM` (an operator
with shell access to the server has every right anyway).

Roles:

- ``admin``: everything; an admin with an organization is still national.
- ``coordinator``: runs, reviews and publishes the day's batch (national, as the
  batch is); reads and enters its own organization's records.
- ``staff``: registers its own organization's requests and donations.
- ``volunteer``: its own route and availability only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.errors import Forbidden, NotFound

ROLES = ("admin", "coordinator", "staff", "volunteer")


@dataclass(frozen=True)
class Actor:
    """The acting account, as services see it (never a request global).

    ``label`` is what the archive records (the email, or ``cli:<login>``).
    """

    label: str
    role: str
    user_id: int | None = None
    org_id: int | None = None
    volunteer_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def sees_org(self, org_id: int | None) -> bool:
        """True when records of ``org_id`` are within this actor's scope."""
        return self.is_admin or (org_id is not None and org_id == self.org_id)


def system_actor(label: str) -> Actor:
    """The command line's actor: every right, recorded as ``label``."""
    return Actor(label=label, role="admin")


def require_role(actor: Actor, *roles: str) -> None:
    """Raise :class:`Forbidden` unless ``actor`` has one of ``roles`` (admin always may)."""
    if actor.is_admin or actor.role in roles:
        return
    raise Forbidden(f"a {actor.role} account may not do this")


def require_org(actor: Actor, org_id: int | None, what: str = "record") -> None:
    """Raise :class:`NotFound` unless ``org_id`` is within ``actor``'s scope."""
    if not actor.sees_org(org_id):
        raise NotFound(f"no such {what}")


def scoped_org_ids(actor: Actor, org_ids: Iterable[int]) -> list[int]:
    """The ids among ``org_ids`` that ``actor`` may see."""
    return [o for o in org_ids if actor.sees_org(o)]
