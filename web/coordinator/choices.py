"""Select options of the coordinator's forms: localised names, sorted as read."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from engine.listings import Catalogue
from engine.models.requests import REQUEST_STATUSES
from web.labels import category_name, region_name, status_label

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday_names() -> dict[str, str]:
    return {
        "mon": _("Monday"),
        "tue": _("Tuesday"),
        "wed": _("Wednesday"),
        "thu": _("Thursday"),
        "fri": _("Friday"),
        "sat": _("Saturday"),
        "sun": _("Sunday"),
    }


def options(pairs: list[tuple[Any, str]], empty: str | None = None) -> list[SelectChoice]:
    """``(value, label)`` pairs as select options, after an empty choice when given."""
    head = [SelectChoice("", empty)] if empty is not None else []
    return [*head, *(SelectChoice(value, label) for value, label in pairs)]


def categories(catalogue: Catalogue, empty: str | None = None) -> list[SelectChoice]:
    pairs = sorted(((c, category_name(c)) for c in catalogue.categories), key=lambda o: o[1])
    return options(pairs, empty)


def regions(catalogue: Catalogue, empty: str | None = None) -> list[SelectChoice]:
    pairs = sorted(((r, region_name(r)) for r in catalogue.regions), key=lambda o: o[1])
    return options(pairs, empty)


def organizations(catalogue: Catalogue, empty: str | None = None) -> list[SelectChoice]:
    return options([(o.id, f"{o.name} ({o.code})") for o in catalogue.organizations], empty)


def sites(catalogue: Catalogue, several_orgs: bool) -> list[SelectChoice]:
    """The sites in scope, grouped by organization when there are several."""
    out = [SelectChoice("", _("No site: give the coordinates and the region"))]
    for s in catalogue.sites:
        label = f"{s.name} ({s.code}) · {region_name(s.region)}"
        out.append(
            SelectChoice(
                str(s.id),
                label,
                render_kw={"data-org": str(s.org_id)},  # coordinator-entry.js filters by it
                optgroup=s.org_code if several_orgs else None,
            )
        )
    return out


def request_statuses() -> list[SelectChoice]:
    return options([*((s, status_label(s)) for s in REQUEST_STATUSES), ("all", _("all"))])


def lot_states() -> list[SelectChoice]:
    return options(
        [
            ("available", _("available")),
            ("expired", _("expired, not used")),
            ("used_up", _("used up")),
            ("all", _("all")),
        ]
    )


def volunteer_states() -> list[SelectChoice]:
    return options([("active", _("active")), ("inactive", _("inactive")), ("all", _("all"))])
