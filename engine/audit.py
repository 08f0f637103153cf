"""The archive: an append-only, hash-chained log of every state change.

Each event's ``hash`` is ``sha256(prev_hash + canonical(fields) + personal_digest)``
in hex, where ``fields`` are ``seq``, ``at``, ``actor``, ``action``,
``entity_type``, ``entity_id``, ``before`` and ``after`` (the last two already
canonical JSON text) and ``canonical`` is JSON with sorted keys, no spaces and
UTF-8 text. The first event's ``prev_hash`` is 64 zeros.

Personal data (names, phones, addresses) goes in the separate ``personal``
column, as canonical JSON ``{"data": …, "salt": <16 random bytes, hex>}``; only
``personal_digest = sha256(personal)`` enters the hash. The retention purge sets
``personal`` to NULL — the digest stays, so the chain still verifies, and the
salt being erased with the data, nobody can confirm a guessed name against the
digest.

Appending is safe from any number of processes: the single-row ``audit_head``
table is moved with ``UPDATE … SET seq = n + 1 … WHERE seq = n`` and a row-count
check, retried after re-reading the head, so two transactions can never append
after the same event (no fork, no reordering, no lost or duplicated ``seq``). On
PostgreSQL the updated head row stays locked until the transaction ends, so
audit-writing transactions are serialised at their first event; on SQLite the
file's write lock already serialises them. Record events after the rows they
describe are written (row locks first, chain head last), which avoids lock-order
deadlocks.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from engine.access import Actor, require_role
from engine.db.base import as_utc, utcnow
from engine.errors import ConflictError
from engine.models.audit import GENESIS_HASH, AuditEvent, AuditHead

# A conditional head update fails only when another transaction appended in between;
# each retry re-reads the head (after waiting for that transaction's lock), so a
# handful of attempts is plenty even with many writers.
MAX_APPEND_ATTEMPTS = 50
VERIFY_CHUNK = 5000


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date | time_of_day):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot archive a value of type {type(value).__name__}")


# One encoder for every call: json.dumps with options builds a new encoder each
# time, which costs a third of `audit verify`'s time over a long archive.
_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    default=_json_default,
)


def canonical_json(value: Any) -> str:
    """``value`` as canonical JSON: sorted keys, no whitespace, UTF-8, no NaN."""
    return _ENCODER.encode(value)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _timestamp(at: datetime) -> str:
    return as_utc(at).isoformat(timespec="microseconds")


def event_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: str | None,
    after: str | None,
    personal_digest: str | None,
) -> str:
    """The chain hash of one event (see the module docstring)."""
    fields = {
        "seq": seq,
        "at": _timestamp(at),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }
    return _sha256(prev_hash + canonical_json(fields) + (personal_digest or ""))


def record(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object,
    before: Any = None,
    after: Any = None,
    personal: Any = None,
) -> AuditEvent:
    """Append one event to the chain, in the session's transaction (not committed).

    ``before``/``after`` are JSON-able values (dates and datetimes become ISO text)
    describing the entity without its personal data; ``personal`` holds that
    personal data (erasable, see the module docstring). ``action`` is a dotted verb
    (``organization.add``, ``lot.update``, ``batch.publish``…), ``entity_id`` the
    entity's id (stringified). Raises :class:`ConflictError` if the chain head kept
    moving under it ``MAX_APPEND_ATTEMPTS`` times.
    """
    before_text = None if before is None else canonical_json(before)
    after_text = None if after is None else canonical_json(after)
    personal_text = None
    digest = None
    if personal is not None:
        personal_text = canonical_json({"data": personal, "salt": secrets.token_hex(16)})
        digest = _sha256(personal_text)
    entity = str(entity_id)
    head_table = AuditHead.__table__
    for attempt in range(MAX_APPEND_ATTEMPTS):
        seq, prev = session.execute(
            select(head_table.c.seq, head_table.c.hash).where(head_table.c.id == 1)
        ).one()
        at = utcnow()
        new_seq = seq + 1
        digest_hash = event_hash(
            prev, new_seq, at, actor, action, entity_type, entity, before_text, after_text, digest
        )
        moved = session.execute(
            update(head_table)
            .where(head_table.c.id == 1, head_table.c.seq == seq)
            .values(seq=new_seq, hash=digest_hash)
        )
        if moved.rowcount == 1:
            event = AuditEvent(
                seq=new_seq,
                at=at,
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity,
                before=before_text,
                after=after_text,
                personal=personal_text,
                personal_digest=digest,
                prev_hash=prev,
                hash=digest_hash,
            )
            session.add(event)
            return event
        # Another transaction appended between our read and our update: its commit
        # released the head; back off a little (jittered) and re-read.
        time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    raise ConflictError("the archive's chain head kept moving; retry the command")


def erase_personal(session: Session, seqs: list[int]) -> int:
    """Erase the personal data of events ``seqs`` (the retention purge); returns how many.

    Only ``personal`` is set to NULL (its salt goes with it); ``personal_digest``
    stays, so the chain still verifies. The PostgreSQL guard allows exactly this
    update. The caller archives the purge itself as an event.
    """
    t = AuditEvent.__table__
    erased = 0
    for start in range(0, len(seqs), 1000):  # bounded IN lists
        chunk = seqs[start : start + 1000]
        result = session.execute(
            update(t).where(t.c.seq.in_(chunk), t.c.personal.is_not(None)).values(personal=None)
        )
        erased += result.rowcount
    return erased


def events_of(session: Session, entity_type: str, entity_id: object) -> list[AuditEvent]:
    """Every event about one entity, oldest first (what ``jessr trace`` tells)."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.seq)
    )
    return list(session.execute(query).scalars())


def personal_data(event: AuditEvent) -> Any:
    """The personal data an event carries, or None (none given, or erased)."""
    if event.personal is None:
        return None
    return json.loads(event.personal)["data"]


@dataclass(frozen=True)
class Head:
    """The chain head: the last event's ``seq`` and ``hash`` (seq 0: no event yet)."""

    seq: int
    hash: str


def head(session: Session) -> Head:
    """The current chain head, as stored in ``audit_head``."""
    seq, digest = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    return Head(seq=seq, hash=digest)


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`: ``ok``, or the first bad event and what is wrong."""

    ok: bool
    events: int  # events checked
    head: Head | None  # the stored head (None when its row is missing)
    bad_seq: int | None = None  # the first bad event (None: ok, or a head-only problem)
    problem: str | None = None  # one line naming the first bad event

    def __str__(self) -> str:
        if self.ok:
            assert self.head is not None
            return f"archive verified: {self.events} events, head {self.head.hash}"
        return f"archive broken: {self.problem}"


def _rows(session: Session) -> Iterator[Row[Any]]:
    """Every event, by ``seq``, in chunks (a million events never sit in memory)."""
    t = AuditEvent.__table__
    columns = (
        t.c.seq,
        t.c.at,
        t.c.actor,
        t.c.action,
        t.c.entity_type,
        t.c.entity_id,
        t.c.before,
        t.c.after,
        t.c.personal,
        t.c.personal_digest,
        t.c.prev_hash,
        t.c.hash,
    )
    last: int | None = None
    while True:
        query = select(*columns).order_by(t.c.seq).limit(VERIFY_CHUNK)
        if last is not None:
            query = query.where(t.c.seq > last)
        chunk = session.execute(query).all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def verify(session: Session, expected_head: str | None = None) -> Verification:
    """Recompute the whole chain and name the first bad event.

    Detects an edited event (its hash no longer matches its content), a deleted one
    (a gap in ``seq``, or a head beyond the last event), an inserted or reordered
    one (a broken ``prev_hash`` link or hash), personal data that does not match its
    digest, and a chain head that disagrees with the last event. ``expected_head``
    is a head hash kept outside the database earlier: it must still be in the chain.
    """
    prev = GENESIS_HASH
    expected_seq = 1
    seen_expected = expected_head is None
    count = 0
    stored_head = session.execute(select(AuditHead.seq, AuditHead.hash)).first()
    head_value = None if stored_head is None else Head(stored_head.seq, stored_head.hash)

    def bad(seq: int | None, problem: str) -> Verification:
        return Verification(False, count, head_value, seq, problem)

    for row in _rows(session):
        (seq, at, actor, action, entity_type, entity_id, before, after, personal, digest,
         prev_hash, stored) = row  # fmt: skip
        if seq != expected_seq:
            if seq > expected_seq:
                missing = (
                    f"event {expected_seq}"
                    if seq == expected_seq + 1
                    else f"events {expected_seq}–{seq - 1}"
                )
                return bad(
                    expected_seq,
                    f"event {expected_seq}: missing ({missing} deleted: the chain goes "
                    f"from {expected_seq - 1} to {seq})",
                )
            return bad(seq, f"event {seq}: out of sequence (expected {expected_seq})")
        if head_value is not None and seq > head_value.seq:
            return bad(
                seq,
                f"event {seq}: beyond the chain head (event {head_value.seq}): "
                "inserted outside the chain",
            )
        if prev_hash != prev:
            return bad(
                seq,
                f"event {seq}: its link to event {seq - 1} is broken "
                "(an event was inserted, deleted or reordered here)",
            )
        if personal is not None and _sha256(personal) != digest:
            return bad(seq, f"event {seq}: personal data does not match its digest")
        computed = event_hash(
            prev_hash, seq, at, actor, action, entity_type, entity_id, before, after, digest
        )
        if computed != stored:
            return bad(seq, f"event {seq}: content does not match its hash (edited)")
        if not seen_expected and stored == expected_head:
            seen_expected = True
        prev = stored
        expected_seq += 1
        count += 1
    last_seq = expected_seq - 1
    if head_value is None:
        return bad(None, "the chain head row is missing (audit_head was deleted)")
    if head_value.seq > last_seq:
        return bad(
            last_seq + 1,
            f"event {last_seq + 1}: missing (the chain head is at event {head_value.seq}, "
            f"the last stored event is {last_seq}: events deleted at the end)",
        )
    if head_value.hash != prev:
        return bad(
            last_seq or None,
            f"the chain head's hash does not match event {last_seq} (head edited)",
        )
    if not seen_expected:
        return bad(None, f"the kept head {expected_head} is not in the chain (rewritten)")
    return Verification(True, count, head_value)


# -- searching the archive (the admin pages)


@dataclass(frozen=True)
class EventPage:
    """One page of a search of the archive, newest event first."""

    events: list[AuditEvent]
    total: int  # events matching the search
    page: int  # 1-based
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


MAX_PER_PAGE = 200


def _entity_keys(session: Session, entity_type: str | None, ref: str) -> set[str]:
    """The ``entity_id`` values that may name the record ``ref``: ``ref`` itself and,
    for an ``ORG/REF`` (or an organization code, or an email), the row's id."""
    from engine.models.people import User, Volunteer
    from engine.models.reference import Organization, Site
    from engine.models.requests import Request
    from engine.models.supplies import SupplyLot

    keys = {ref}
    code, sep, local = ref.partition("/")
    by_ref = {"lot": SupplyLot, "request": Request, "volunteer": Volunteer}
    queries = []
    if sep and local:
        for kind, model in by_ref.items():
            if entity_type in (None, kind):
                queries.append(
                    select(model.id)
                    .join(Organization, Organization.id == model.org_id)
                    .where(Organization.code == code, model.ref == local)
                )
        if entity_type in (None, "site"):
            queries.append(
                select(Site.id)
                .join(Organization, Organization.id == Site.org_id)
                .where(Organization.code == code, Site.code == local)
            )
    if entity_type in (None, "organization"):
        queries.append(select(Organization.id).where(Organization.code == ref))
    if entity_type in (None, "user") and "@" in ref:
        queries.append(select(User.id).where(User.email == ref.lower()))
    for query in queries:
        keys.update(str(found) for found in session.execute(query).scalars())
    return keys


def search_events(
    session: Session,
    viewer: Actor,
    *,
    entity_type: str | None = None,
    entity: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> EventPage:
    """Events matching every filter given, newest first, one page (admin).

    ``entity`` is a record's id or its ``ORG/REF`` (an organization's code, an
    account's email): events recorded under either are found. ``action`` matches
    exactly, or as a prefix of dotted actions (``lot`` finds ``lot.add`` and
    ``lot.update``). ``since``/``until`` are days (UTC), both included.
    """
    from datetime import timedelta

    from sqlalchemy import func, or_

    require_role(viewer, "admin")
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    t = AuditEvent
    where = []
    if entity_type:
        where.append(t.entity_type == entity_type)
    if entity:
        where.append(t.entity_id.in_(sorted(_entity_keys(session, entity_type, entity.strip()))))
    if actor:
        where.append(t.actor == actor.strip())
    if action:
        action = action.strip()
        where.append(or_(t.action == action, t.action.startswith(action + ".", autoescape=True)))
    if since is not None:
        where.append(t.at >= datetime(since.year, since.month, since.day, tzinfo=UTC))
    if until is not None:
        end = until + timedelta(days=1)
        where.append(t.at < datetime(end.year, end.month, end.day, tzinfo=UTC))
    total = session.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
    events = list(
        session.execute(
            select(t)
            .where(*where)
            .order_by(t.seq.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).scalars()
    )
    return EventPage(events, int(total), page, per_page)


def verify_archive(
    session: Session, viewer: Actor, expected_head: str | None = None
) -> Verification:
    """:func:`verify` for an admin (the archive page's button)."""
    require_role(viewer, "admin")
    return verify(session, expected_head=expected_head)
