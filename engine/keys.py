"""Keys kept outside the database, checked against it."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.orm import Session

from engine.errors import InputError
from engine.models.instance import InstanceSetting

HOUSEHOLD_KEY_CHECK = "household_key_check"
_CHECK_MESSAGE = b"jessr household key check v1"


def household_key_fingerprint(key: bytes) -> str:
    """A value that identifies ``key`` without revealing it (an HMAC of a constant)."""
    return hmac.new(key, _CHECK_MESSAGE, hashlib.sha256).hexdigest()


def check_household_key(session: Session, key: bytes) -> None:
    """Refuse a household key other than the one this database's pseudonyms use.

    The first call records the key's fingerprint (in the caller's transaction);
    later calls compare. Call it before pseudonymising identifiers: with another
    key, the same family would get a new pseudonym and the duplicate rule would
    silently stop working.
    """
    fingerprint = household_key_fingerprint(key)
    row = session.get(InstanceSetting, HOUSEHOLD_KEY_CHECK)
    if row is None:
        session.add(InstanceSetting(name=HOUSEHOLD_KEY_CHECK, value=fingerprint))
        session.flush()
    elif not hmac.compare_digest(row.value, fingerprint):
        raise InputError(
            "JESSR_HOUSEHOLD_KEY: not the key this database's households were pseudonymised "
            "with (a var/household.key from another working directory?); nothing written"
        )
