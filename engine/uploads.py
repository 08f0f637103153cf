"""Import files uploaded through the web: kept on the server between preview and commit.

An admin uploads a file; it is stored as ``<var>/uploads/<key>/<name>`` (``key``
random, 192 bits; ``name`` the uploaded file's name made safe) with its SHA-256,
and previewed (:func:`preview_import`: the report, nothing written). The commit
(:func:`commit_import`) names the upload by its key and SHA-256 — the web carries
them in a signed form field, never a path — and applies exactly the file that was
previewed, in one transaction; the stored copy is then discarded. Uploads are kept
at most :data:`MAX_AGE` (:func:`purge_uploads` runs on every upload).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from engine.access import Actor, require_role
from engine.errors import ConflictError, FieldError, NotFound

if TYPE_CHECKING:
    from engine.geocode import Geocoder
    from engine.imports.report import ImportReport

EXTENSIONS = (".csv", ".xlsx")
MAX_AGE = timedelta(days=1)
_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded import file kept on the server."""

    key: str  # the folder's random name
    path: Path
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.path.name


def uploads_dir(var_dir: Path) -> Path:
    """Where uploads are kept (created with owner-only permissions)."""
    folder = Path(var_dir) / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def safe_name(filename: str) -> str:
    """``filename`` without folders or characters a path could misuse."""
    base = re.split(r"[\\/]", filename or "")[-1]
    stem, dot, ext = base.rpartition(".")
    stem = _UNSAFE.sub("_", stem if dot else base).strip("._")[:80] or "upload"
    return f"{stem}.{ext.lower()}" if dot else stem


def store_upload(var_dir: Path, filename: str, data: bytes) -> StoredUpload:
    """Keep ``data`` (the uploaded file ``filename``); a field error unless it is
    ``.csv`` or ``.xlsx`` and not empty."""
    name = safe_name(filename)
    if Path(name).suffix not in EXTENSIONS:
        raise FieldError("file", "bad_type", "expected a .csv or .xlsx file")
    if not data:
        raise FieldError("file", "empty", "the file is empty")
    purge_uploads(var_dir)
    key = secrets.token_urlsafe(24)
    folder = uploads_dir(var_dir) / key
    folder.mkdir(mode=0o700)
    path = folder / name
    path.write_bytes(data)
    path.chmod(0o600)
    return StoredUpload(key, path, hashlib.sha256(data).hexdigest(), len(data))


def find_upload(var_dir: Path, key: str, sha256: str) -> StoredUpload:
    """The upload ``key``, checked against the SHA-256 of its preview.

    :class:`NotFound` when there is no such upload (never stored, already applied,
    or discarded after :data:`MAX_AGE`); :class:`ConflictError` when its content
    is not the previewed file's.
    """
    if not _KEY.match(key or ""):
        raise NotFound("no such upload")
    folder = uploads_dir(var_dir) / key
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if len(files) != 1:
        raise NotFound("no such upload")
    data = files[0].read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if not secrets.compare_digest(digest, sha256 or ""):
        raise ConflictError("the stored file is not the one previewed; upload it again")
    return StoredUpload(key, files[0], digest, len(data))


def discard_upload(var_dir: Path, key: str) -> None:
    """Remove the upload ``key`` (after its commit); an unknown key is ignored."""
    if _KEY.match(key or ""):
        shutil.rmtree(uploads_dir(var_dir) / key, ignore_errors=True)


def purge_uploads(var_dir: Path, max_age: timedelta = MAX_AGE, now: float | None = None) -> int:
    """Remove uploads older than ``max_age``; returns how many."""
    limit = (now if now is not None else time.time()) - max_age.total_seconds()
    removed = 0
    for folder in uploads_dir(var_dir).iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except FileNotFoundError:  # removed by another request meanwhile
            continue
    return removed


def _run(
    session: Session,
    actor: Actor,
    kind: str,
    upload: StoredUpload,
    org: str | None,
    household_key: Callable[[], bytes],
    geocoder: Geocoder | None,
    duplicate_window_days: int,
    today: date | None,
    commit: bool,
) -> ImportReport:
    from engine.imports.read import ImportFileError
    from engine.imports.store import run_import

    require_role(actor, "admin")
    try:
        report = run_import(
            session,
            kind,
            upload.path,
            actor=actor.label,
            household_key=household_key,
            geocoder=geocoder,
            org=org or None,
            commit=commit,
            duplicate_window_days=duplicate_window_days,
            today=today,
        )
    except ImportFileError as exc:
        session.rollback()
        raise FieldError("file", "unreadable", str(exc), reason=str(exc)) from None
    except ValueError as exc:  # a bad kind or org: the form offers only valid ones
        session.rollback()
        field = "org" if str(exc).startswith("--org") else "kind"
        raise FieldError(field, "bad_" + field, str(exc), reason=str(exc)) from None
    if not report.committed:
        # A preview or a rejected file keeps nothing, as `jessr import` without
        # --commit: not even the geocoding cache or the household key's fingerprint.
        session.rollback()
    return report


def preview_import(
    session: Session,
    actor: Actor,
    kind: str,
    upload: StoredUpload,
    *,
    org: str | None,
    household_key: Callable[[], bytes],
    geocoder: Geocoder | None = None,
    duplicate_window_days: int = 14,
    today: date | None = None,
) -> ImportReport:
    """Check the upload against the database (admin): the counts and every bad row,
    exactly ``jessr import KIND FILE --json``'s report. Nothing is written (the
    session's transaction is rolled back)."""
    return _run(session, actor, kind, upload, org, household_key, geocoder,
                duplicate_window_days, today, commit=False)  # fmt: skip


def commit_import(
    session: Session,
    actor: Actor,
    kind: str,
    upload: StoredUpload,
    *,
    org: str | None,
    household_key: Callable[[], bytes],
    geocoder: Geocoder | None = None,
    duplicate_window_days: int = 14,
    today: date | None = None,
) -> ImportReport:
    """Apply the upload (admin), all or nothing, as ``jessr import … --commit``: when
    the database changed since the preview and the file now has a bad row, the
    report lists it and nothing is written. The caller commits the session."""
    return _run(session, actor, kind, upload, org, household_key, geocoder,
                duplicate_window_days, today, commit=True)  # fmt: skip
