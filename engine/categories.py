"""The aid category catalogue in the database: list, add, edit, delete (admin).

The catalogue starts as ``data/categories.json`` (seeded by ``jessr db upgrade``).
An admin may add categories and change a category's names (Arabic, French,
English), unit, weight per unit and perishability. The id is never changed: lots,
requests, stored scenarios and archive events refer to it. A category that any lot
or request refers to cannot be deleted. Each change is one archive event
(``category.add``, ``category.update`` with the changed fields before and after,
``category.delete``); once a category has such an event, the seed leaves it as the
admins made it (:func:`managed_ids`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import Actor, require_role
from engine.errors import FieldError, NotFound
from engine.models.audit import AuditEvent
from engine.models.reference import Category
from engine.models.requests import Request
from engine.models.supplies import SupplyLot
from engine.organizations import CODE_PATTERN, CODE_RULE

LANGUAGES = ("ar", "fr", "en")  # every category is named in each
MAX_NAME = 200
MAX_UNIT = 64
MAX_WEIGHT_KG = 10_000.0  # one unit heavier than a loaded van is a typo


@dataclass(frozen=True)
class CategoryUse:
    """A category with how many lots and requests refer to it."""

    category: Category
    lots: int
    requests: int

    @property
    def in_use(self) -> bool:
        return bool(self.lots or self.requests)


def category_view(category: Category) -> dict[str, Any]:
    """What the archive records of a category."""
    return {
        "id": category.id,
        "names": dict(category.names or {}),
        "unit": category.unit,
        "weight_kg": category.weight_kg,
        "perishable": bool(category.perishable),
    }


def _uses(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    lots = dict(
        session.execute(
            select(SupplyLot.category_id, func.count()).group_by(SupplyLot.category_id)
        ).all()
    )
    requests = dict(
        session.execute(
            select(Request.category_id, func.count()).group_by(Request.category_id)
        ).all()
    )
    return lots, requests


def list_categories(session: Session, actor: Actor) -> list[CategoryUse]:
    """Every category, by id, with its use (admin)."""
    require_role(actor, "admin")
    lots, requests = _uses(session)
    rows = session.execute(select(Category).order_by(Category.id)).scalars()
    return [CategoryUse(c, lots.get(c.id, 0), requests.get(c.id, 0)) for c in rows]


def get_category(session: Session, actor: Actor, category_id: str) -> CategoryUse:
    """The category ``category_id`` with its use (admin), else :class:`NotFound`."""
    require_role(actor, "admin")
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("no such category")
    lots, requests = _uses(session)
    return CategoryUse(category, lots.get(category.id, 0), requests.get(category.id, 0))


def _checked(
    names: dict[str, str], unit: str, weight_kg: float | None
) -> tuple[dict[str, str], str, float]:
    clean = {}
    for lang in LANGUAGES:
        value = " ".join((names.get(lang) or "").split())
        if not value:
            raise FieldError(f"name_{lang}", "required", f"the {lang} name must not be empty")
        if len(value) > MAX_NAME:
            raise FieldError(f"name_{lang}", "too_long", f"at most {MAX_NAME} characters",
                             max=MAX_NAME)  # fmt: skip
        clean[lang] = value
    unit = " ".join(unit.split())
    if not unit:
        raise FieldError("unit", "required", "must not be empty")
    if len(unit) > MAX_UNIT:
        raise FieldError("unit", "too_long", f"at most {MAX_UNIT} characters", max=MAX_UNIT)
    if weight_kg is None or not math.isfinite(weight_kg) or weight_kg <= 0:
        raise FieldError("weight_kg", "positive", "must be a number of kg above 0")
    if weight_kg > MAX_WEIGHT_KG:
        raise FieldError("weight_kg", "too_heavy", f"at most {MAX_WEIGHT_KG:g} kg per unit",
                         max=MAX_WEIGHT_KG)  # fmt: skip
    return clean, unit, float(weight_kg)


def add_category(
    session: Session,
    actor: Actor,
    category_id: str,
    names: dict[str, str],
    unit: str,
    weight_kg: float | None,
    perishable: bool = False,
) -> Category:
    """Add a category (admin); its id (e.g. ``food.dates``) is fixed from then on."""
    require_role(actor, "admin")
    category_id = category_id.strip()
    if not CODE_PATTERN.match(category_id):
        raise FieldError("id", "bad_code", f"expected {CODE_RULE}, got {category_id!r}")
    clean, unit, weight = _checked(names, unit, weight_kg)
    if session.get(Category, category_id) is not None:
        raise FieldError("id", "category_taken", f"category {category_id} already exists",
                         value=category_id)  # fmt: skip
    category = Category(
        id=category_id, names=clean, unit=unit, weight_kg=weight, perishable=perishable
    )
    session.add(category)
    session.flush()
    audit.record(
        session, actor.label, "category.add", "category", category.id, after=category_view(category)
    )
    return category


def update_category(
    session: Session,
    actor: Actor,
    category_id: str,
    names: dict[str, str],
    unit: str,
    weight_kg: float | None,
    perishable: bool,
) -> Category:
    """Change a category's names, unit, weight or perishability (admin), never its id.

    The new weight applies to batches run from now on (a stored batch keeps the
    scenario it was solved with). A form that changes nothing writes nothing.
    """
    require_role(actor, "admin")
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("no such category")
    clean, unit, weight = _checked(names, unit, weight_kg)
    before = category_view(category)
    category.names, category.unit = clean, unit
    category.weight_kg, category.perishable = weight, perishable
    after = category_view(category)
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        return category
    session.flush()
    audit.record(
        session,
        actor.label,
        "category.update",
        "category",
        category.id,
        before={"id": category.id, **{key: before[key] for key in changed}},
        after={"id": category.id, **{key: after[key] for key in changed}},
    )
    return category


def delete_category(session: Session, actor: Actor, category_id: str) -> None:
    """Delete a category no lot or request refers to (admin); else a field error."""
    require_role(actor, "admin")
    use = get_category(session, actor, category_id)
    if use.in_use:
        raise FieldError(
            "id",
            "in_use",
            f"category {category_id} is used by {use.lots} lot(s) and {use.requests} "
            "request(s): it cannot be deleted",
            lots=use.lots,
            requests=use.requests,
        )
    before = category_view(use.category)
    session.delete(use.category)
    session.flush()
    audit.record(session, actor.label, "category.delete", "category", category_id, before=before)


def managed_ids(session: Session) -> set[str]:
    """Ids of categories an admin added, changed or deleted (archive events): the seed
    from ``data/`` leaves those as the admins made them."""
    rows = session.execute(
        select(AuditEvent.entity_id)
        .where(
            AuditEvent.entity_type == "category",
            AuditEvent.action.in_(("category.add", "category.update", "category.delete")),
        )
        .distinct()
    )
    return {row[0] for row in rows}
