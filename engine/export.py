"""``jessr export archive --org CODE -o DIR``: an organization's records for its own books.

Writes into DIR, atomically (a temporary folder beside DIR, renamed into place
once every file is written and synced; an existing DIR must be empty or hold a
previous export, which is replaced whole):

- ``lots.csv``: the organization's supply lots and their stock.
- ``requests.csv``: its requests, without household identifiers nor pseudonyms:
  ``household`` is an opaque number valid within this organization's export only
  (``H1``, ``H2``… in the order of each household's first request), enough to see
  which requests are the same family's. No personal data (names, phones,
  addresses): an export leaves the platform, where the retention period could not
  follow it.
- ``allocations.csv``: every allocation of its lots or its requests, in any batch.
- ``deliveries.csv``: the delivery reports on those allocations (who, when, reason).
- ``audit_events.csv``: the archive events concerning the organization, its sites,
  users, volunteers, lots, requests, those allocations and their batches, with
  their ``seq``, ``prev_hash``, ``personal_digest`` and ``hash``: ``before`` and
  ``after`` are the archived canonical JSON verbatim, so each event's hash can be
  recomputed from its row (``engine.audit.event_hash``) — except where a household
  reference had to be masked (``masked`` = ``yes``). Personal data is not exported.
- ``manifest.json``: the organization, the export time, the archive's head
  (``seq`` and ``hash``) at export time, and each file's SHA-256 and row count.

Everything is read in one transaction, so the files and the head agree.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import audit
from engine.db.base import as_utc, utcnow
from engine.errors import InputError
from engine.models.audit import AuditEvent
from engine.models.batches import Allocation, Batch
from engine.models.deliveries import Delivery
from engine.models.people import User, Volunteer
from engine.models.reference import Organization, Site
from engine.models.requests import Request
from engine.models.supplies import SupplyLot
from engine.organizations import get_organization
from engine.trace import ENTITY_TYPES, scrub

MANIFEST = "manifest.json"
FILES = ("lots.csv", "requests.csv", "allocations.csv", "deliveries.csv", "audit_events.csv")


@dataclass(frozen=True)
class ExportResult:
    """What ``export archive`` wrote."""

    directory: Path
    rows: dict[str, int]
    head_seq: int
    head_hash: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and hasattr(value, "hour") and hasattr(value, "year"):
        return as_utc(value).isoformat(timespec="microseconds")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> tuple[bytes, int]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_text(v) for v in row])
        count += 1
    return buffer.getvalue().encode("utf-8"), count


def _codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organization.id, Organization.code)).all())


def collect(session: Session, org_code: str) -> tuple[dict[str, tuple[bytes, int]], audit.Head]:
    """The export's files (name -> (bytes, rows)) and the archive head, read together."""
    org = get_organization(session, org_code)
    codes = _codes(session)
    head = audit.head(session)
    files: dict[str, tuple[bytes, int]] = {}

    sites = {s.id: s for s in session.execute(select(Site)).scalars()}
    lots = list(
        session.execute(
            select(SupplyLot).where(SupplyLot.org_id == org.id).order_by(SupplyLot.id)
        ).scalars()
    )
    files["lots.csv"] = _csv(
        (
            "ref", "category", "site", "lat", "lon", "region", "quantity_received",
            "quantity_reserved", "quantity_delivered", "expires", "donor", "regions",
            "received_on", "created_at", "updated_at",
        ),
        (
            (
                lot.ref, lot.category_id,
                sites[lot.site_id].code if lot.site_id else None,
                sites[lot.site_id].lat if lot.site_id else lot.lat,
                sites[lot.site_id].lon if lot.site_id else lot.lon,
                sites[lot.site_id].region_code if lot.site_id else lot.region_code,
                lot.quantity_received, lot.quantity_reserved, lot.quantity_delivered,
                lot.expires, lot.donor, lot.regions, lot.received_on, lot.created_at,
                lot.updated_at,
            )
            for lot in lots
        ),
    )  # fmt: skip

    requests = list(
        session.execute(
            select(Request).where(Request.org_id == org.id).order_by(Request.id)
        ).scalars()
    )
    households: dict[int, str] = {}
    for request in requests:  # opaque, per-organization household numbers
        households.setdefault(request.household_id, f"H{len(households) + 1}")
    files["requests.csv"] = _csv(
        (
            "ref", "household", "category", "quantity", "priority", "region", "lat", "lon",
            "window_start", "window_end", "filed", "status", "closed_at",
            "personal_erased_at", "created_at", "updated_at",
        ),
        (
            (
                r.ref, households[r.household_id], r.category_id, r.quantity, r.priority,
                r.region_code, r.lat, r.lon, r.window_start, r.window_end, r.filed,
                r.status, r.closed_at, r.personal_erased_at, r.created_at, r.updated_at,
            )
            for r in requests
        ),
    )  # fmt: skip

    rows = session.execute(
        select(Allocation, Batch, SupplyLot, Request)
        .join(Batch, Batch.id == Allocation.batch_id)
        .join(SupplyLot, SupplyLot.id == Allocation.lot_id)
        .join(Request, Request.id == Allocation.request_id)
        .where(or_(SupplyLot.org_id == org.id, Request.org_id == org.id))
        .order_by(Allocation.batch_id, Allocation.id)
    ).all()
    volunteers = {
        v.id: f"{codes[v.org_id]}/{v.ref}" for v in session.execute(select(Volunteer)).scalars()
    }
    files["allocations.csv"] = _csv(
        (
            "allocation", "batch", "batch_date", "batch_status", "plan_id", "lot", "request",
            "quantity", "volunteer", "unrouted_reason", "status", "created_at", "updated_at",
        ),
        (
            (
                f"{b.id}/{a.plan_id}", b.id, b.date, b.status, a.plan_id,
                f"{codes[lot.org_id]}/{lot.ref}", f"{codes[req.org_id]}/{req.ref}",
                a.quantity, volunteers.get(a.volunteer_id) if a.volunteer_id else None,
                a.unrouted_reason, a.status, a.created_at, a.updated_at,
            )
            for a, b, lot, req in rows
        ),
    )  # fmt: skip

    allocations = {a.id: f"{b.id}/{a.plan_id}" for a, b, _, _ in rows}
    reports = (
        list(
            session.execute(
                select(Delivery)
                .where(Delivery.allocation_id.in_(sorted(allocations)))
                .order_by(Delivery.id)
            ).scalars()
        )
        if allocations
        else []
    )
    files["deliveries.csv"] = _csv(
        ("allocation", "kind", "reason", "actor", "at"),
        ((allocations[d.allocation_id], d.kind, d.reason, d.actor, d.at) for d in reports),
    )

    # The archive events concerning the organization's records.
    wanted: dict[str, set[str]] = {}

    def want(kind: str, ids: Iterable[tuple[int, str | None]]) -> None:
        names = ENTITY_TYPES.get(kind, (kind,))
        for row_id, alt in ids:
            for name in names:
                bucket = wanted.setdefault(name, set())
                bucket.add(str(row_id))
                if alt:
                    bucket.add(alt)

    want("organization", [(org.id, org.code)])
    want(
        "site",
        [(s.id, f"{org.code}/{s.code}") for s in sites.values() if s.org_id == org.id],
    )
    want(
        "user",
        [
            (u.id, u.email)
            for u in session.execute(select(User).where(User.org_id == org.id)).scalars()
        ],
    )
    want(
        "volunteer",
        [
            (v.id, f"{org.code}/{v.ref}")
            for v in session.execute(select(Volunteer).where(Volunteer.org_id == org.id)).scalars()
        ],
    )
    want("lot", [(lot.id, f"{org.code}/{lot.ref}") for lot in lots])
    want("request", [(r.id, f"{org.code}/{r.ref}") for r in requests])
    want("allocation", list(allocations.items()))
    want("batch", [(b_id, str(b_id)) for b_id in {b.id for _, b, _, _ in rows}])
    events: dict[int, AuditEvent] = {}
    for entity_type, ids in wanted.items():
        id_list = sorted(ids)
        for start in range(0, len(id_list), 500):  # bounded IN lists
            query = select(AuditEvent).where(
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id.in_(id_list[start : start + 500]),
                AuditEvent.seq <= head.seq,
            )
            for event in session.execute(query).scalars():
                events[event.seq] = event

    def masked(text: str | None) -> str | None:
        """The archived JSON text verbatim, or re-encoded with household refs masked."""
        if text is None:
            return None
        value = json.loads(text)
        clean = scrub(value)
        return text if clean == value else audit.canonical_json(clean)

    def row(e: AuditEvent) -> tuple[Any, ...]:
        before, after = masked(e.before), masked(e.after)
        changed = before != e.before or after != e.after
        return (
            e.seq, e.at, e.actor, e.action, e.entity_type, e.entity_id, before, after,
            "yes" if changed else "no", e.personal_digest, e.prev_hash, e.hash,
        )  # fmt: skip

    files["audit_events.csv"] = _csv(
        (
            "seq", "at", "actor", "action", "entity_type", "entity_id", "before", "after",
            "masked", "personal_digest", "prev_hash", "hash",
        ),
        (row(events[seq]) for seq in sorted(events)),
    )  # fmt: skip
    return files, head


def _prepare_target(directory: Path) -> None:
    """Refuse a DIR that is a file, or a non-empty folder other than a previous export."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"-o {directory}: not a folder")
    if directory.is_dir():
        entries = set(os.listdir(directory))
        if entries and MANIFEST not in entries:
            raise InputError(
                f"-o {directory}: the folder is not empty and holds no previous export; "
                "give a new or empty folder"
            )


def write_export(
    directory: Path, org_code: str, files: dict[str, tuple[bytes, int]], head: audit.Head
) -> ExportResult:
    """Write ``files`` and the manifest into ``directory``, all at once or not at all."""
    directory = Path(directory)
    _prepare_target(directory)
    parent = directory.resolve().parent
    if not parent.is_dir():
        raise InputError(f"-o {directory}: its parent folder does not exist")
    manifest = {
        "organization": org_code,
        "exported_at": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "audit_head": {"seq": head.seq, "hash": head.hash},
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "rows": rows}
            for name, (data, rows) in files.items()
        },
    }
    temp = parent / f".{directory.name}.{secrets.token_hex(6)}.tmp"
    temp.mkdir()
    try:
        contents = {name: data for name, (data, _) in files.items()}
        contents[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        for name, data in contents.items():
            with open(temp / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        old = None
        if directory.exists():
            # An empty folder or a previous export: moved aside, then removed, so DIR
            # always holds one whole export.
            old = parent / f".{directory.name}.{secrets.token_hex(6)}.old"
            os.rename(directory, old)
        os.rename(temp, directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        dir_fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return ExportResult(
        directory, {name: rows for name, (_, rows) in files.items()}, head.seq, head.hash
    )
