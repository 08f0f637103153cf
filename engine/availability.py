"""A volunteer's own availability for the coming days (the volunteer page's checkboxes).

A volunteer's ``days`` (``engine.models.people.Volunteer``) is what the day's
snapshot reads (:func:`engine.snapshot.available_on`): NULL for every day, else
ISO dates and weekday names, and ``!YYYY-MM-DD`` for a date excluded whatever
else matches. The page shows the next :data:`HORIZON` days; saving a choice
changes only those dates and keeps the rule for every other day:

- a date ticked that the rule does not already give is added (``2026-12-09``);
- a date unticked that the rule gives (by a weekday, or every day) is excluded
  (``!2026-12-09``); an explicit date of the rule is simply removed;
- dated entries before the first shown day are dropped (they can no longer
  matter), and a rule that is again "every weekday, nothing else" becomes NULL.

So a coordinator's "mon;wed" stays "mon;wed" beyond the fortnight, and a
volunteer's week off does not end their availability for good. Each change is one
archive event (``volunteer.availability``, the days before and after: no personal
data). A later import of the organization's volunteer file replaces ``days``
whole, as it does every field (the organization's file is authoritative).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor
from engine.errors import InputError
from engine.route_sheets import route_days, volunteer_of
from engine.snapshot import EXCLUDE, WEEKDAYS, available_on

HORIZON = 14


@dataclass(frozen=True)
class Day:
    """One shown date: whether the volunteer is available, whether a route is published."""

    day: date
    available: bool
    route: bool


@dataclass(frozen=True)
class Change:
    """What saving did: ``days`` before and after, and dates unticked that keep a route."""

    before: list[str] | None
    after: list[str] | None
    changed: bool
    routes_kept: list[date]


def horizon(start: date, days: int = HORIZON) -> list[date]:
    """The dates shown: ``start`` and the ``days - 1`` following."""
    return [start + timedelta(days=n) for n in range(days)]


def availability(session: Session, actor: Actor, start: date, days: int = HORIZON) -> list[Day]:
    """The signed-in volunteer's availability on each of the ``days`` dates from ``start``."""
    volunteer = volunteer_of(session, actor)
    routes = set(route_days(session, actor, start, days))
    return [Day(d, available_on(volunteer.days, d), d in routes) for d in horizon(start, days)]


def _dated(entry: str) -> date | None:
    try:
        return date.fromisoformat(entry.removeprefix(EXCLUDE))
    except ValueError:
        return None


def _normalised(entries: list[str]) -> list[str] | None:
    """Weekdays in week order, then dates in order, then anything else; NULL for
    "every weekday and nothing else" (every day)."""
    weekdays = [w for w in WEEKDAYS if w in entries]
    dated = sorted({e for e in entries if _dated(e) is not None}, key=lambda e: (_dated(e), e))
    others = sorted({e for e in entries if e not in WEEKDAYS and _dated(e) is None})
    if len(weekdays) == len(WEEKDAYS) and not dated and not others:
        return None
    return [*weekdays, *dated, *others]


def plan_days(
    days: list[str] | None, start: date, chosen: Iterable[date], count: int = HORIZON
) -> list[str] | None:
    """The ``days`` value that makes the volunteer available on exactly ``chosen``
    among the ``count`` dates from ``start``, every other date unchanged."""
    shown = horizon(start, count)
    wanted = set(chosen)
    outside = sorted(d for d in wanted if d not in shown)
    if outside:
        raise InputError(
            f"days: {outside[0].isoformat()} is not one of the {count} days from "
            f"{start.isoformat()}"
        )
    entries = [str(e).strip().lower() for e in (days if days is not None else WEEKDAYS)]
    entries = [e for e in entries if e and ((d := _dated(e)) is None or d >= start)]
    for day in shown:
        iso = day.isoformat()
        entries = [e for e in entries if e not in (iso, EXCLUDE + iso)]
        if (day in wanted) != available_on(entries, day):
            entries.append(iso if day in wanted else EXCLUDE + iso)
    return _normalised(entries)


def set_availability(
    session: Session, actor: Actor, start: date, chosen: Iterable[date], days: int = HORIZON
) -> Change:
    """Make the signed-in volunteer available on exactly ``chosen`` among the ``days``
    dates from ``start`` (see the module docstring). Records ``volunteer.availability``
    when something changed. Does not commit."""
    volunteer = volunteer_of(session, actor)
    chosen = set(chosen)
    before = list(volunteer.days) if volunteer.days is not None else None
    after = plan_days(before, start, chosen, days)
    routes = route_days(session, actor, start, days)
    kept = [d for d in routes if d not in chosen]
    changed = after != before
    if changed:
        volunteer.days = after
        session.flush()
        audit.record(
            session,
            actor.label,
            "volunteer.availability",
            "volunteer",
            volunteer.id,
            before={"days": before},
            after={"days": after, "from": start, "to": start + timedelta(days=days - 1)},
        )
    return Change(before, after, changed, kept)
