"""Household pseudonyms: the identifier an organization gives, stored only as an HMAC.

An organization knows a family by an identifier, often a national ID number. Jessr
never stores it in clear: the database holds ``HMAC-SHA256(key, normalised id)``
under the household key, which lives outside the database (``JESSR_HOUSEHOLD_KEY`` or
the key file ``var/household.key``). The same family registered by two organizations
gets the same pseudonym, so duplicates are found across organizations, while a
database dump alone reveals no identifier (and, without the key, cannot be checked
against a list of known IDs).

**Normalisation** (so that ``"0812 3456"``, ``"08123456"`` and ``"08-123-456"``
are one family): Unicode NFKC (full-width forms become ASCII), every decimal digit
of any script becomes its ASCII digit (Arabic-Indic ``٠٨١٢`` is ``0812``), case is
folded (``casefold``), and all whitespace and dash characters (Unicode category
``Pd``: ``-``, ``‐``, ``–``, ``—``, …) are removed, at the ends and inside. Other
punctuation is kept: ``A.1`` and ``A1`` stay different.

**The key**: 32 random bytes. :func:`load_or_create_key` takes ``JESSR_HOUSEHOLD_KEY``
when it is set: a value of 64 or more hexadecimal digits (even length; e.g.
``openssl rand -hex 32``) is decoded to bytes, any other non-empty value is used as
its UTF-8 bytes. Otherwise the key file is read, or created once with mode 0600.
Losing the key means the pseudonyms can no longer be recomputed from IDs: back the
key up apart from the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import string
import unicodedata
from pathlib import Path

KEY_BYTES = 32
ENV_VAR = "JESSR_HOUSEHOLD_KEY"
_HEX = frozenset(string.hexdigits)


def normalise(identifier: str) -> str:
    """The identifier as it is hashed (see the module docstring); ``ValueError`` if empty."""
    text = unicodedata.normalize("NFKC", identifier)
    out = []
    for char in text:
        if char.isspace() or unicodedata.category(char) == "Pd":
            continue
        digit = unicodedata.decimal(char, None)
        out.append(str(digit) if digit is not None else char)
    result = "".join(out).casefold()
    if not result:
        raise ValueError("a household identifier must not be empty")
    return result


def pseudonym(key: bytes, identifier: str) -> str:
    """HMAC-SHA256 of the normalised ``identifier`` under ``key``, as 64 hex digits."""
    if not key:
        raise ValueError("the household key must not be empty")
    return hmac.new(key, normalise(identifier).encode("utf-8"), hashlib.sha256).hexdigest()


def key_from_env(value: str, variable: str = ENV_VAR) -> bytes:
    """The key an environment value stands for (hex decoded, else UTF-8)."""
    if not value:
        raise ValueError(f"{variable} is set but empty")
    if len(value) >= 2 * KEY_BYTES and len(value) % 2 == 0 and set(value) <= _HEX:
        return bytes.fromhex(value)
    return value.encode("utf-8")


def load_or_create_key(
    path: str | Path,
    environ: dict[str, str] | None = None,
    *,
    variable: str = ENV_VAR,
    what: str = "household key",
) -> bytes:
    """A key (by default the household key): from the environment ``variable``,
    else the file at ``path``. The platform's other key (``JESSR_SECRET_KEY``,
    :attr:`engine.config.Settings.secret_key`) is kept the same way.

    A missing file is created once with 32 random bytes and mode 0600 (its folder
    too). Creation is atomic and never replaces an existing key, so processes
    starting at the same moment all end up with the one key written first.
    ``ValueError`` (one line naming the file) for a key file that is unreadable or
    shorter than 16 bytes. ``environ`` defaults to :data:`os.environ`.
    """
    env = os.environ if environ is None else environ
    value = env.get(variable)
    if value is not None:
        return key_from_env(value, variable)
    path = Path(path)
    if not path.exists():
        _create(path)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if len(key) < KEY_BYTES // 2:
        raise ValueError(
            f"{path}: the {what} is too short ({len(key)} bytes; expected {KEY_BYTES})"
        )
    return key


def _create(path: Path) -> None:
    """Write a new random key to ``path`` unless one appears there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The key is written whole into a private temporary file, then linked into place:
    # link() fails if the path exists, so a key never replaces another and no reader
    # ever sees a half-written file.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass  # another process created the key first: use that one
    except OSError:
        # A file system without hard links: a rename, which can only lose a race
        # against a key created within the same instant.
        if not path.exists():
            os.replace(temp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
