"""Reference data in the database: regions and categories, synced from ``data/``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.models.reference import Category, Region
from engine.reference import data_dir, default_categories, regions


def seed_reference(session: Session, actor: str) -> dict[str, int]:
    """Insert or update every region of ``data/regions`` and every catalogue category.

    Idempotent: returns how many rows of each table were added or changed, and
    archives one ``reference.sync`` event when any were. A category an admin
    added, changed or deleted (``engine.categories``) is left as they made it: the
    shipped file does not overwrite the network's own catalogue.
    """
    from engine.categories import managed_ids

    changed: dict[str, list[str]] = {"regions": [], "categories": []}
    known_regions = {r.code: r for r in session.execute(select(Region)).scalars()}
    for path in sorted((data_dir() / "regions").glob("*.json")):
        country = path.stem.upper()
        for code, ref in regions(country).items():
            values = {
                "country": country,
                "name": ref.names.get("en", code),
                "names": dict(ref.names),
                "capital": ref.capital,
                "lat": ref.lat,
                "lon": ref.lon,
            }
            row = known_regions.get(code)
            if row is None:
                session.add(Region(code=code, **values))
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
            else:
                continue
            changed["regions"].append(code)
    known_categories = {c.id: c for c in session.execute(select(Category)).scalars()}
    managed = managed_ids(session)
    for cid, cat in default_categories().items():
        if cid in managed:
            continue
        values = {
            "unit": cat.unit,
            "weight_kg": cat.weight_kg,
            "perishable": cat.perishable,
            "names": dict(cat.names),
        }
        row = known_categories.get(cid)
        if row is None:
            session.add(Category(id=cid, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
        else:
            continue
        changed["categories"].append(cid)
    if changed["regions"] or changed["categories"]:
        session.flush()
        audit.record(session, actor, "reference.sync", "reference", "data", after=changed)
    return {table: len(ids) for table, ids in changed.items()}
