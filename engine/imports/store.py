"""The database half of an import: check against stored state, count, apply, archive.

:func:`run_import` is the service behind ``jessr import KIND FILE``: it reads,
validates and geocodes the file (:func:`engine.imports.prepare.prepare`), then
:func:`apply_prepared` adds the problems that need the database and, with
``commit``, writes the whole file. Like every service it never commits; the caller
(the command) commits once, or rolls back when the report says nothing was
committed (a preview, a rejected file) — the geocoding cache and the household key's
fingerprint are written in the same transaction, so a preview writes nothing at all.

Checks against stored state, each an :class:`~engine.imports.issues.ImportIssue`:

* codes and refs that cannot be stored (``ORG/REF`` ids: 1-64 letters, digits,
  ``.``, ``_``, ``-``);
* ``org``: an organization in the database (organizations come first, from their
  own file); ``parent``: an organization in the database or anywhere in the same
  file, and no cycle once the file is applied; ``site``: a site of the row's
  organization in the database;
* requests: the household rule — a second open request (``open``, ``allocated`` or
  ``in_transit``) of one household pseudonym for one category, filed less than
  ``duplicate_window_days`` apart, from any organization, is a bad row whose reason
  names the other request as ``ORG/REF`` (the file's own rows are checked against
  each other by validation); an existing request that is no longer open cannot be
  changed by an import;
* requests: a ``ref``, ``name`` or ``address`` that contains the household
  identifier (it would be stored in clear);
* inventory: a lot's new quantity below what is already reserved and delivered.

Rows are identified by ``(org, ref)`` (sites ``(org, code)``, organizations
``code``): a new key inserts, a known key whose values differ updates, an equal one
is left alone. Writes are bulk statements (one ``INSERT … RETURNING`` and one
``UPDATE`` executemany per table; existing records preloaded in one query), so a
100,000-row inventory costs seconds, not minutes.

The archive: one event per record created (``lot.add``, …, the record's values;
personal fields — names, phones, addresses of requests and volunteers — in the
erasable ``personal`` part) or changed (``lot.update``, the changed fields before
and after), and one ``import.commit`` event per import naming the file by its
SHA-256, with its kind and counts. An import that changes nothing (a re-import of
the same file) writes nothing, not even the import event: nothing happened.

Times of day are stored as :class:`datetime.time`; ``24:00`` (the end of the day),
which ``time`` cannot hold, is stored as ``23:59:59.999999`` (:func:`time_of`,
:func:`minutes_of`). A request without a window stores none (both ``NULL``).
Volunteer ``days`` are stored as a list of weekday names (``mon`` … ``sun``, in
week order) followed by ISO dates, ``NULL`` for every day.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from engine import audit
from engine.db.base import utcnow
from engine.errors import ConflictError
from engine.geocode import Geocoder
from engine.households import normalise, pseudonym
from engine.imports.issues import HIDDEN, ImportIssue, echo
from engine.imports.prepare import Prepared, prepare
from engine.imports.records import (
    OrganizationRecord,
    Record,
    RequestRecord,
    VolunteerRecord,
)
from engine.imports.report import Counts, ImportReport
from engine.imports.schemas import HOUSEHOLD, Kind
from engine.keys import check_household_key
from engine.models import (
    AuditEvent,
    AuditHead,
    Category,
    Household,
    Organization,
    Request,
    Site,
    SupplyLot,
    Volunteer,
)
from engine.organizations import CODE_PATTERN

# Requests that still wait for their delivery: a second one of the same household
# and category is a duplicate.
PENDING_STATUSES = ("open", "allocated", "in_transit")
END_OF_DAY = time.max  # 24:00, which datetime.time cannot represent
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CHUNK = 500  # bound IN lists (SQLite's parameter limit, PostgreSQL's plan size)


def time_of(minutes: int) -> time:
    """A time of day from minutes after midnight; 1440 (24:00) is ``23:59:59.999999``."""
    if minutes >= 24 * 60:
        return END_OF_DAY
    return time(minutes // 60, minutes % 60)


def minutes_of(value: time) -> int:
    """Minutes after midnight of a stored time of day (``23:59:59.999999`` is 1440)."""
    if value == END_OF_DAY:
        return 24 * 60
    return value.hour * 60 + value.minute


def days_value(record: VolunteerRecord) -> list[str] | None:
    """A volunteer's ``days`` as stored: weekday names, then ISO dates; None: every day."""
    if not record.dates and not record.weekdays:
        return None
    return [WEEKDAY_NAMES[d] for d in record.weekdays] + [d.isoformat() for d in record.dates]


# -- the service


def run_import(
    session: Session,
    kind: Kind | str,
    path: str | Path,
    *,
    actor: str,
    household_key: Callable[[], bytes] | bytes,
    geocoder: Geocoder | None = None,
    org: str | None = None,
    commit: bool = False,
    duplicate_window_days: int = 14,
    today: date | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind``: read, validate, geocode, check against the database,
    and with ``commit`` apply it; returns the report (see the module docstring).

    ``household_key`` (bytes, or a function giving them, called only for a requests
    file) is the HMAC key of household pseudonyms. ``geocoder`` places address-only
    rows (``None``: none configured). Raises
    :class:`~engine.imports.read.ImportFileError` for an unreadable file and
    ``ValueError`` for a bad ``kind`` or ``org``. The caller commits when
    ``report.committed``, else rolls back.
    """
    today = today or date.today()
    # Categories are checked against the database's catalogue, which holds the
    # categories admins added (engine.categories) besides data/categories.json's.
    catalogue = frozenset(session.execute(select(Category.id)).scalars())
    prepared = prepare(
        kind,
        path,
        org=org,
        geocoder=geocoder,
        duplicate_window_days=duplicate_window_days,
        today=today,
        categories=catalogue,
    )
    if commit:
        from engine.db.session import begin_write

        # SQLite: take the write lock before reading what is stored, so the counts and
        # checks hold until the commit (PostgreSQL: the unique keys do that job).
        begin_write(session)
    key = b""
    if prepared.kind is Kind.REQUESTS and prepared.records:
        key = household_key() if callable(household_key) else household_key
    return apply_prepared(
        session,
        prepared,
        actor=actor,
        household_key=key,
        org=org,
        commit=commit,
        duplicate_window_days=duplicate_window_days,
        today=today,
    )


def apply_prepared(
    session: Session,
    prepared: Prepared,
    *,
    actor: str,
    household_key: bytes = b"",
    org: str | None = None,
    commit: bool = False,
    duplicate_window_days: int = 14,
    today: date | None = None,
) -> ImportReport:
    """Check ``prepared`` against the database and, with ``commit`` and no problem at
    all, write it and archive it; see the module docstring.

    ``household_key`` is needed for a requests file (checked against the database's
    with :func:`engine.keys.check_household_key` before any pseudonym is made).
    """
    today = today or date.today()
    planner = _PLANNERS[prepared.kind]
    job = _Job(session, prepared, actor, household_key, duplicate_window_days, today)
    planner(job)
    issues = [*prepared.issues, *job.issues]
    name = prepared.table.name
    if issues:
        return ImportReport.rejected(prepared.kind.value, name, issues)
    counts = Counts(len(job.inserts), len(job.updates), job.unchanged)
    if not commit:
        return ImportReport(prepared.kind.value, name, counts, committed=False)
    if job.inserts or job.updates:
        job.write()
        job.events.append(
            _Event(
                "import.commit",
                "import",
                prepared.table.sha256,
                None,
                {
                    "kind": prepared.kind.value,
                    "file": Path(name).name,
                    "sha256": prepared.table.sha256,
                    "org": org,
                    "rows": len(prepared.records),
                    "counts": counts.to_json(),
                },
                None,
            )
        )
        append_events(session, actor, job.events)
    return ImportReport(prepared.kind.value, name, counts, committed=True)


# -- the plan of one import


@dataclass(slots=True)
class _Event:
    action: str
    entity_type: str
    entity_id: object  # an int id, or a callable giving it once rows are inserted
    before: Any
    after: Any
    personal: Any


@dataclass(slots=True)
class _Insert:
    record: Record
    row: dict[str, Any]  # the table row (without id)
    view: dict[str, Any]  # the archived values
    personal: dict[str, Any] | None
    id: int | None = None


@dataclass(slots=True)
class _Update:
    record: Record
    id: int
    row: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    personal: dict[str, Any] | None


@dataclass
class _Job:
    session: Session
    prepared: Prepared
    actor: str
    household_key: bytes
    window_days: int
    today: date
    issues: list[ImportIssue] = field(default_factory=list)
    inserts: list[_Insert] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)
    unchanged: int = 0
    events: list[_Event] = field(default_factory=list)
    table: Table | None = None
    entity: str = ""
    key_columns: tuple[str, ...] = ("org_id", "ref")  # a row's identity in its table
    before_write: Callable[[], None] | None = None
    after_insert: Callable[[], None] | None = None

    def bad(self, record: Record, column: str, value: str | None, reason: str) -> None:
        self.issues.append(ImportIssue(record.row, column, _shown(record, value), reason))

    def compare(
        self,
        record: Record,
        stored_id: int | None,
        stored: Mapping[str, Any] | None,
        row: dict[str, Any],
        view: dict[str, Any],
        personal: dict[str, Any] | None,
        identity: Sequence[str],
    ) -> None:
        """Count ``record`` as new, updated or unchanged and keep what to write."""
        if stored is None or stored_id is None:
            self.inserts.append(_Insert(record, row, view, personal))
            return
        new = {**view, **(personal or {})}
        changed = [name for name, value in new.items() if stored.get(name) != value]
        if not changed:
            self.unchanged += 1
            return
        plain = [name for name in changed if personal is None or name not in personal]
        private = [name for name in changed if personal is not None and name in personal]
        ident = {name: view[name] for name in identity}
        before = {**ident, **{name: stored.get(name) for name in plain}}
        after = {**ident, **{name: view[name] for name in plain}}
        personal_change = None
        if private:
            personal_change = {
                "before": {name: stored.get(name) for name in private},
                "after": {name: new[name] for name in private},
            }
        self.updates.append(_Update(record, stored_id, row, before, after, personal_change))

    def write(self) -> None:
        """Insert the new rows, update the changed ones, queue their events."""
        assert self.table is not None
        t = self.table
        now = utcnow()
        if self.before_write is not None:
            self.before_write()
        if self.inserts:
            rows = [{**item.row, "created_at": now, "updated_at": now} for item in self.inserts]
            # A plain executemany, then the new ids by key in one query: an INSERT …
            # RETURNING in parameter order runs row by row on SQLite.
            self.session.execute(t.insert(), rows)
            key = [t.c[name] for name in self.key_columns]
            scope = t.c.org_id.in_({row["org_id"] for row in rows}) if "org_id" in t.c else None
            query = select(t.c.id, *key)
            if scope is not None:
                query = query.where(scope)
            ids = {tuple(found[1:]): found[0] for found in self.session.execute(query)}
            for item in self.inserts:
                item.id = ids[tuple(item.row[name] for name in self.key_columns)]
        if self.updates:
            columns = list(self.updates[0].row)
            statement = (
                update(t)
                .where(t.c.id == bindparam("_id"))
                .values({name: bindparam(f"_{name}") for name in [*columns, "updated_at"]})
            )
            params = [
                {"_id": item.id, "_updated_at": now, **{f"_{k}": v for k, v in item.row.items()}}
                for item in self.updates
            ]
            self.session.execute(statement, params)
        if self.after_insert is not None:
            self.after_insert()
        for item in self.inserts:
            self.events.append(
                _Event(f"{self.entity}.add", self.entity, item.id, None, item.view, item.personal)
            )
        for change in self.updates:
            self.events.append(
                _Event(
                    f"{self.entity}.update",
                    self.entity,
                    change.id,
                    change.before,
                    change.after,
                    change.personal,
                )
            )


def _shown(record: Record, value: str | None) -> str | None:
    """A value as a report may echo it: hidden when it reveals the row's household id."""
    if value is None:
        return None
    if isinstance(record, RequestRecord):
        try:
            hidden, seen = normalise(record.household), normalise(value)
        except ValueError:
            return echo(value)
        if seen == hidden or (len(hidden) >= 4 and hidden in seen):
            return HIDDEN
    return echo(value)


def _check_codes(job: _Job, record: Record, columns: Iterable[str]) -> bool:
    ok = True
    for column in columns:
        value = getattr(record, column)
        if value is not None and not CODE_PATTERN.match(value):
            job.bad(
                record,
                column,
                value,
                "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                "digit (it becomes part of ids such as ORG/REF)",
            )
            ok = False
    return ok


def _organizations(session: Session) -> dict[str, tuple[int, str, str, int | None]]:
    """Every organization: code -> (id, name, region, parent id)."""
    t = Organization.__table__
    rows = session.execute(select(t.c.id, t.c.code, t.c.name, t.c.region_code, t.c.parent_id))
    return {r.code: (r.id, r.name, r.region_code, r.parent_id) for r in rows}


def _known_orgs(
    job: _Job, orgs: Mapping[str, tuple[int, str, str, int | None]], record: Record
) -> int | None:
    code: str = record.org  # type: ignore[union-attr]
    if code in orgs:
        return orgs[code][0]
    job.bad(
        record,
        "org",
        code,
        "unknown organization (add it with `jessr org add` or `jessr import organizations`)",
    )
    return None


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- organizations


def _plan_organizations(job: _Job) -> None:
    records: list[OrganizationRecord] = list(job.prepared.records)  # type: ignore[arg-type]
    orgs = _organizations(job.session)
    code_of = {values[0]: code for code, values in orgs.items()}
    in_file = {r.code for r in records}
    good: list[OrganizationRecord] = []
    for record in records:
        ok = _check_codes(job, record, ("code", "parent"))
        if record.parent is not None and record.parent not in orgs and record.parent not in in_file:
            job.bad(
                record,
                "parent",
                record.parent,
                "unknown organization (neither in the database nor in this file)",
            )
            ok = False
        if ok:
            good.append(record)
    # The parent links once the file is applied: a cycle is a bad row (each of its rows).
    parent_of: dict[str, str | None] = {
        code: (code_of.get(values[3]) if values[3] is not None else None)
        for code, values in orgs.items()
    }
    parent_of.update({r.code: r.parent for r in records})
    for record in good:
        chain = [record.code]
        current = parent_of.get(record.code)
        while current is not None and current not in chain and len(chain) <= len(parent_of):
            chain.append(current)
            current = parent_of.get(current)
        if current == record.code:
            job.bad(
                record,
                "parent",
                record.parent,
                "parent cycle: " + " → ".join([*chain, record.code]),
            )
    if job.issues:
        return
    job.table = Organization.__table__
    job.entity = "organization"
    job.key_columns = ("code",)
    for record in good:
        view = {"code": record.code, "name": record.name, "region": record.region,
                "parent": record.parent}  # fmt: skip
        stored = orgs.get(record.code)
        stored_view = None
        if stored is not None:
            stored_view = {
                "code": record.code,
                "name": stored[1],
                "region": stored[2],
                "parent": code_of.get(stored[3]) if stored[3] is not None else None,
            }
        # Parents are set after the inserts (a parent may be a new row of this file).
        row = {"code": record.code, "name": record.name, "region_code": record.region,
               "parent_id": None}  # fmt: skip
        if stored is not None:
            row["parent_id"] = orgs[record.parent][0] if record.parent in orgs else None
        job.compare(record, stored[0] if stored else None, stored_view, row, view, None, ("code",))

    def link_parents() -> None:
        ids = {code: values[0] for code, values in orgs.items()}
        ids.update({item.record.code: item.id for item in job.inserts})  # type: ignore[union-attr,misc]
        links = [
            {"_id": ids[r.code], "_parent": ids[r.parent]}
            for r in (item.record for item in [*job.inserts, *job.updates])
            if isinstance(r, OrganizationRecord) and r.parent is not None
        ]
        if links:
            t = Organization.__table__
            job.session.execute(
                update(t).where(t.c.id == bindparam("_id")).values(parent_id=bindparam("_parent")),
                links,
            )

    job.after_insert = link_parents


def _checked(job: _Job, key_fields: tuple[str, ...]) -> tuple[list[Any], dict[str, Any]]:
    """The file's records whose codes and organization check out, and the
    organizations by code (bad rows are reported on ``job``)."""
    orgs = _organizations(job.session)
    good = []
    for record in job.prepared.records:
        ok = _check_codes(job, record, key_fields)
        if _known_orgs(job, orgs, record) is None:
            ok = False
        if ok:
            good.append(record)
    return good, orgs


def _stored_by_org(
    session: Session, table: Any, org_ids: list[int], key: str
) -> dict[tuple[int, str], Any]:
    """Stored rows of ``table`` of these organizations, by (org id, ``key``)."""
    stored: dict[tuple[int, str], Any] = {}
    for chunk in _chunks(org_ids):
        for row in session.execute(select(table).where(table.c.org_id.in_(chunk))):
            stored[(row.org_id, getattr(row, key))] = row
    return stored


# -- sites


def _plan_sites(job: _Job) -> None:
    good, orgs = _checked(job, ("org", "code"))
    if job.issues:
        return
    t = Site.__table__
    stored = _stored_by_org(job.session, t, sorted({orgs[r.org][0] for r in good}), "code")
    job.table = t
    job.entity = "site"
    job.key_columns = ("org_id", "code")
    for record in good:
        org_id = orgs[record.org][0]
        view = {"org": record.org, "code": record.code, "name": record.name,
                "region": record.region, "lat": record.lat, "lon": record.lon,
                "address": record.address}  # fmt: skip
        old = stored.get((org_id, record.code))
        old_view = None
        if old is not None:
            old_view = {"org": record.org, "code": old.code, "name": old.name,
                        "region": old.region_code, "lat": old.lat, "lon": old.lon,
                        "address": old.address}  # fmt: skip
        row = {"org_id": org_id, "code": record.code, "name": record.name,
               "region_code": record.region, "lat": record.lat, "lon": record.lon,
               "address": record.address}  # fmt: skip
        job.compare(record, old.id if old else None, old_view, row, view, None, ("org", "code"))


# -- inventory


def _plan_inventory(job: _Job) -> None:
    good, orgs = _checked(job, ("org", "ref", "site"))
    org_ids = sorted({orgs[r.org][0] for r in good})
    st = Site.__table__
    sites: dict[tuple[int, str], int] = {}
    site_code: dict[int, str] = {}
    for chunk in _chunks(org_ids):
        rows = job.session.execute(
            select(st.c.id, st.c.org_id, st.c.code).where(st.c.org_id.in_(chunk))
        )
        for row in rows:
            sites[(row.org_id, row.code)] = row.id
            site_code[row.id] = row.code
    t = SupplyLot.__table__
    stored = _stored_by_org(job.session, t, org_ids, "ref")
    job.table = t
    job.entity = "lot"
    for record in good:
        org_id = orgs[record.org][0]
        site_id = None
        if record.site is not None:
            site_id = sites.get((org_id, record.site))
            if site_id is None:
                job.bad(
                    record,
                    "site",
                    record.site,
                    f"unknown site of organization {record.org} "
                    "(add it with `jessr site add` or `jessr import sites`)",
                )
                continue
        view = {
            "org": record.org,
            "ref": record.ref,
            "category": record.category,
            "quantity": record.quantity,
            "site": record.site,
            "lat": record.lat,
            "lon": record.lon,
            "region": record.region,
            "expires": record.expires.isoformat() if record.expires else None,
            "regions": list(record.regions) if record.regions else None,
            "donor": record.donor,
            "received": record.received.isoformat() if record.received else None,
        }
        old = stored.get((org_id, record.ref))
        old_view = None
        if old is not None:
            used = old.quantity_reserved + old.quantity_delivered
            if record.quantity < used:
                job.bad(
                    record,
                    "quantity",
                    str(record.quantity),
                    f"below the {used} units of this lot already reserved or delivered "
                    f"({old.quantity_reserved} reserved, {old.quantity_delivered} delivered)",
                )
                continue
            old_view = {
                "org": record.org,
                "ref": old.ref,
                "category": old.category_id,
                "quantity": old.quantity_received,
                "site": site_code.get(old.site_id) if old.site_id is not None else None,
                "lat": old.lat,
                "lon": old.lon,
                "region": old.region_code,
                "expires": old.expires.isoformat() if old.expires else None,
                "regions": list(old.regions) if old.regions else None,
                "donor": old.donor,
                "received": old.received_on.isoformat() if old.received_on else None,
            }
        row = {
            "org_id": org_id,
            "ref": record.ref,
            "category_id": record.category,
            "site_id": site_id,
            "lat": record.lat,
            "lon": record.lon,
            "region_code": record.region,
            "quantity_received": record.quantity,
            "expires": record.expires,
            "donor": record.donor,
            "regions": list(record.regions) if record.regions else None,
            "received_on": record.received,
        }
        if old is None:
            row.update(quantity_reserved=0, quantity_delivered=0)
        job.compare(record, old.id if old else None, old_view, row, view, None, ("org", "ref"))


# -- requests


def _plan_requests(job: _Job) -> None:
    records: list[RequestRecord] = list(job.prepared.records)  # type: ignore[arg-type]
    orgs = _organizations(job.session)
    code_of = {values[0]: code for code, values in orgs.items()}
    good = []
    for record in records:
        ok = _check_codes(job, record, ("org", "ref"))
        if _known_orgs(job, orgs, record) is None:
            ok = False
        # The identifier typed into a stored column (a ref made of the national ID, the
        # ID in the name) would be stored in clear: such a row is refused.
        for column in ("ref", "name", "address"):
            if _shown(record, getattr(record, column)) == HIDDEN:
                job.bad(
                    record,
                    column,
                    HIDDEN,
                    "contains the household identifier, which is never stored in clear",
                )  # the row still goes through the checks below: every problem at once
        if ok:
            good.append(record)
    if not good:
        return
    check_household_key(job.session, job.household_key)
    names = {r.row: pseudonym(job.household_key, r.household) for r in good}
    households: dict[str, int] = {}
    ht = Household.__table__
    for chunk in _chunks(sorted(set(names.values()))):
        rows = job.session.execute(select(ht.c.id, ht.c.pseudonym).where(ht.c.pseudonym.in_(chunk)))
        households.update({row.pseudonym: row.id for row in rows})
    t = Request.__table__
    stored = _stored_by_org(job.session, t, sorted({orgs[r.org][0] for r in good}), "ref")
    keys = {(orgs[r.org][0], r.ref) for r in good}
    # Pending requests of the file's households, in any organization, except those
    # this file rewrites (their new version is the file's row).
    pending: dict[tuple[int, str], list[tuple[date, str]]] = defaultdict(list)
    for chunk in _chunks(sorted(households.values())):
        rows = job.session.execute(
            select(t.c.org_id, t.c.ref, t.c.household_id, t.c.category_id, t.c.filed).where(
                t.c.household_id.in_(chunk), t.c.status.in_(PENDING_STATUSES)
            )
        )
        for row in rows:
            if (row.org_id, row.ref) in keys:
                continue
            pending[(row.household_id, row.category_id)].append(
                (row.filed, f"{code_of[row.org_id]}/{row.ref}")
            )
    pseudonym_of = _pseudonyms(
        job.session,
        (stored[key].household_id for key in keys if key in stored),
        households,
    )
    job.table = t
    job.entity = "request"
    for record in good:
        org_id = orgs[record.org][0]
        name = names[record.row]
        old = stored.get((org_id, record.ref))
        filed = record.filed or (old.filed if old is not None else job.today)
        household_id = households.get(name)
        if household_id is not None:
            for other_filed, other in pending.get((household_id, record.category), ()):
                if abs((filed - other_filed).days) < job.window_days:
                    job.bad(
                        record,
                        HOUSEHOLD,
                        HIDDEN,
                        f"this household already has an open request for {record.category}: "
                        f"{other} (filed {other_filed.isoformat()}, less than "
                        f"{job.window_days} days apart)",
                    )
                    break
        window = list(record.window) if record.window is not None else None
        view = {
            "org": record.org,
            "ref": record.ref,
            "household": name,
            "category": record.category,
            "quantity": record.quantity,
            "priority": record.priority,
            "region": record.region,
            "lat": record.lat,
            "lon": record.lon,
            "filed": filed.isoformat(),
            "window": window,
        }
        personal = {"name": record.name, "phone": record.phone, "address": record.address}
        old_view = None
        if old is not None:
            old_window = None
            if old.window_start is not None or old.window_end is not None:
                old_window = [
                    minutes_of(old.window_start) if old.window_start is not None else 0,
                    minutes_of(old.window_end) if old.window_end is not None else 24 * 60,
                ]
            old_view = {
                "org": record.org,
                "ref": old.ref,
                "household": pseudonym_of.get(old.household_id),
                "category": old.category_id,
                "quantity": old.quantity,
                "priority": old.priority,
                "region": old.region_code,
                "lat": old.lat,
                "lon": old.lon,
                "filed": old.filed.isoformat(),
                "window": old_window,
                "name": old.name,
                "phone": old.phone,
                "address": old.address,
            }
        row = {
            "org_id": org_id,
            "ref": record.ref,
            "household_id": name,  # replaced by the household's id once it exists
            "category_id": record.category,
            "quantity": record.quantity,
            "priority": record.priority,
            "region_code": record.region,
            "lat": record.lat,
            "lon": record.lon,
            "address": record.address,
            "window_start": time_of(record.window[0]) if record.window else None,
            "window_end": time_of(record.window[1]) if record.window else None,
            "filed": filed,
            "phone": record.phone,
            "name": record.name,
        }
        if old is None:
            row["status"] = "open"
        before = len(job.updates)
        job.compare(record, old.id if old else None, old_view, row, view, personal,
                    ("org", "ref"))  # fmt: skip
        if old is not None and len(job.updates) > before and old.status != "open":
            job.updates.pop()
            job.bad(
                record,
                "ref",
                record.ref,
                f"request {record.org}/{record.ref} is {old.status}: an import can change "
                "only open requests",
            )
    if job.issues:
        return
    missing = sorted({n for n in names.values() if n not in households})

    def insert_households() -> None:
        # Written with the import only (a preview writes nothing), before the
        # requests that refer to them.
        if missing:
            now = utcnow()
            job.session.execute(ht.insert(), [{"pseudonym": n, "created_at": now} for n in missing])
            for chunk in _chunks(missing):
                rows = job.session.execute(
                    select(ht.c.id, ht.c.pseudonym).where(ht.c.pseudonym.in_(chunk))
                )
                households.update({row.pseudonym: row.id for row in rows})
        for item in [*job.inserts, *job.updates]:
            value = item.row["household_id"]
            if isinstance(value, str):
                item.row["household_id"] = households[value]

    job.before_write = insert_households


def _pseudonyms(session: Session, ids: Iterable[int], known: Mapping[str, int]) -> dict[int, str]:
    """Household id -> pseudonym for ``ids`` (``known`` first, the rest in a few queries)."""
    out = {hid: name for name, hid in known.items()}
    rest = sorted(set(ids) - out.keys())
    ht = Household.__table__
    for chunk in _chunks(rest):
        rows = session.execute(select(ht.c.id, ht.c.pseudonym).where(ht.c.id.in_(chunk)))
        out.update({row.id: row.pseudonym for row in rows})
    return out


# -- volunteers


def _plan_volunteers(job: _Job) -> None:
    good, orgs = _checked(job, ("org", "ref"))
    if job.issues:
        return
    t = Volunteer.__table__
    stored = _stored_by_org(job.session, t, sorted({orgs[r.org][0] for r in good}), "ref")
    job.table = t
    job.entity = "volunteer"
    for record in good:
        org_id = orgs[record.org][0]
        days = days_value(record)
        view = {
            "org": record.org,
            "ref": record.ref,
            "vehicle": record.vehicle,
            "capacity_kg": record.capacity_kg,
            "lat": record.lat,
            "lon": record.lon,
            "shift": list(record.shift),
            "speed_kmh": record.speed_kmh,
            "days": days,
        }
        personal = {"name": record.name, "phone": record.phone}
        old = stored.get((org_id, record.ref))
        old_view = None
        if old is not None:
            old_view = {
                "org": record.org,
                "ref": old.ref,
                "vehicle": old.vehicle,
                "capacity_kg": old.capacity_kg,
                "lat": old.home_lat,
                "lon": old.home_lon,
                "shift": [minutes_of(old.shift_start), minutes_of(old.shift_end)],
                "speed_kmh": old.speed_kmh,
                "days": list(old.days) if old.days is not None else None,
                "name": old.name,
                "phone": old.phone,
            }
        row = {
            "org_id": org_id,
            "ref": record.ref,
            "name": record.name,
            "phone": record.phone,
            "vehicle": record.vehicle,
            "capacity_kg": record.capacity_kg,
            "home_lat": record.lat,
            "home_lon": record.lon,
            "shift_start": time_of(record.shift[0]),
            "shift_end": time_of(record.shift[1]),
            "speed_kmh": record.speed_kmh,
            "days": days,
        }
        if old is None:
            row["active"] = True
        job.compare(record, old.id if old else None, old_view, row, view, personal,
                    ("org", "ref"))  # fmt: skip


_PLANNERS: Mapping[Kind, Callable[[_Job], None]] = {
    Kind.ORGANIZATIONS: _plan_organizations,
    Kind.SITES: _plan_sites,
    Kind.INVENTORY: _plan_inventory,
    Kind.REQUESTS: _plan_requests,
    Kind.VOLUNTEERS: _plan_volunteers,
}


# -- the archive, in bulk


def append_events(session: Session, actor: str, events: Sequence[_Event]) -> None:
    """Append ``events`` to the archive's chain at once, in the session's transaction.

    The same chain as :func:`engine.audit.record` (each event's hash covers the
    previous one, ``seq`` without gaps), built in Python: the head row is read with
    ``FOR UPDATE`` (PostgreSQL; on SQLite the import holds the write lock), every
    event is inserted in one executemany, then the head moves once from ``n`` to
    ``n + len(events)`` (``UPDATE … WHERE seq = n`` with a row-count check). The
    PostgreSQL guard allows such a move only onto stored events, all present.
    Moving the head one event at a time would leave 100,000 versions of its row in
    one transaction, each step slower than the last (quadratic on PostgreSQL:
    10,000 steps took 10 s, 2026-12-07). Call it after writing the rows the events
    describe (row locks first, the chain head last).
    """
    if not events:
        return
    head = AuditHead.__table__
    prepared = []
    for event in events:
        entity_id = event.entity_id() if callable(event.entity_id) else event.entity_id
        before = None if event.before is None else audit.canonical_json(event.before)
        after = None if event.after is None else audit.canonical_json(event.after)
        personal = digest = None
        if event.personal is not None and any(_has_value(v) for v in event.personal.values()):
            personal = audit.canonical_json({"data": event.personal, "salt": _salt()})
            digest = hashlib.sha256(personal.encode("utf-8")).hexdigest()
        prepared.append((event, str(entity_id), before, after, personal, digest))
    # FOR UPDATE (PostgreSQL): no other writer can append between this read and the
    # head's move below; SQLite's write lock, taken before the import, does that.
    seq, prev = session.execute(
        select(head.c.seq, head.c.hash).where(head.c.id == 1).with_for_update()
    ).one()
    at = utcnow()
    rows = []
    link = prev
    for offset, (event, entity_id, before, after, personal, digest) in enumerate(prepared, 1):
        digest_hash = audit.event_hash(
            link, seq + offset, at, actor, event.action, event.entity_type, entity_id,
            before, after, digest,
        )  # fmt: skip
        rows.append({"seq": seq + offset, "at": at, "actor": actor, "action": event.action,
                     "entity_type": event.entity_type, "entity_id": entity_id,
                     "before": before, "after": after, "personal": personal,
                     "personal_digest": digest, "prev_hash": link,
                     "hash": digest_hash})  # fmt: skip
        link = digest_hash
    connection = session.connection()
    dialect = connection.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    # Straight to the driver's executemany: SQLAlchemy's per-row parameter
    # processing costs more than the database here. The timestamp goes through
    # the column type's own conversion, so it reads back (and hashes) the same.
    to_db = AuditEvent.__table__.c.at.type._cached_bind_processor(dialect)
    stored_at = to_db(at) if to_db is not None else at
    columns = ("seq", "at", "actor", "action", "entity_type", "entity_id", "before",
               "after", "personal", "personal_digest", "prev_hash", "hash")  # fmt: skip
    connection.exec_driver_sql(
        f"INSERT INTO audit_events ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})",
        [tuple(stored_at if c == "at" else row[c] for c in columns) for row in rows],
    )
    # The head moves once, onto the last event (the PostgreSQL guard allows a
    # move over several events only onto stored ones, all present).
    moved = session.execute(
        update(head).where(head.c.id == 1, head.c.seq == seq).values(seq=seq + len(rows), hash=link)
    )
    if moved.rowcount != 1:  # cannot happen under the lock; never a forked chain
        raise ConflictError("the archive's chain head moved during the import; retry it")


def _has_value(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_value(v) for v in value.values())
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _salt() -> str:
    return secrets.token_hex(16)  # as engine.audit.record: erased with the data
