"""Synthetic but realistic scenarios: one Tunisian aid day in the exchange format.

``generate_scenario`` returns a JSON-ready dict (spec: ``exchange-format.md``,
version 1) for tests, benchmarks and demos. Everything is drawn from one
``numpy.random.Generator`` seeded by ``seed``, in a fixed order, so a seed always
gives the same day. The shape of the day follows the reference data in
``data/regions/TN.json``:

* requests come from households, so they are spread over governorates in
  proportion to population x poverty rate;
* donations pile up where incomes are higher (population x income index), and
  sit in a modest number of depots (warehouses of national organisations and
  local associations), so many lots share coordinates;
* the category mix follows the season (late November: blankets, winter
  clothes and gas cylinders), and some categories are scarce (food baskets,
  blankets) while others are oversupplied (clothes, hygiene and school kits);
* every coordinate lies inside the coarse land outline shipped with the data
  (points that fall in the sea or a lagoon are redrawn).

The work is vectorised: 100,000 requests take well under a second or two.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import numpy as np

from engine.reference import data_dir, default_categories, regions

__all__ = ["generate_scenario", "on_land"]

_KM_PER_DEG_LAT = 111.2  # mean length of one degree of latitude, km

# Share of requests per category in a winter month (before the seasonal factor).
# Food baskets dominate what households ask civil-society networks for.
_DEMAND_WEIGHT: Mapping[str, float] = {
    "food.basket": 22.0,
    "food.flour": 5.0,
    "food.semolina": 5.0,
    "food.oil": 5.0,
    "food.milk": 5.0,
    "food.produce": 3.0,
    "baby.formula": 4.0,
    "baby.diapers": 5.0,
    "hygiene.kit": 5.0,
    "health.medicine": 6.0,
    "winter.blanket": 12.0,
    "winter.clothing": 10.0,
    "school.kit": 3.0,
    "energy.gas": 10.0,
}

# Units in stock per unit requested on the day: < 1 is scarce, > 1 oversupplied.
# Clothes and kits pile up after campaigns; baskets, blankets, gas and medicine
# never suffice. Lot sizes are scaled to the request count to hit these ratios
# (as far as lots of 5..200 units allow). Unknown categories get 1.
_SUPPLY_RATIO: Mapping[str, float] = {
    "food.basket": 0.35,
    "food.flour": 0.9,
    "food.semolina": 1.2,
    "food.oil": 1.0,
    "food.milk": 1.1,
    "food.produce": 1.3,
    "baby.formula": 0.6,
    "baby.diapers": 0.8,
    "hygiene.kit": 1.8,
    "health.medicine": 0.5,
    "winter.blanket": 0.4,
    "winter.clothing": 1.6,
    "school.kit": 2.5,
    "energy.gas": 0.5,
}

# Seasonal demand factor by month for the seasonal families; others are flat.
_WINTER_BY_MONTH = {10: 0.5, 11: 1.0, 12: 1.2, 1: 1.2, 2: 1.0, 3: 0.6}
_SCHOOL_BY_MONTH = {8: 4.0, 9: 5.0, 10: 1.5}

# Depot owners present in every governorate, with their relative stock share.
# Local associations ("assoc-<governorate>-<k>") are added per governorate.
_NATIONAL_ORGS: Mapping[str, float] = {"crt": 3.0, "scouts": 2.0, "unft": 1.5, "ltdh": 0.7}
_LOCAL_ORG_WEIGHT = 1.0
_LOTS_PER_DEPOT = 6  # fewer lots than this per depot: use fewer depots, so lots share them

_URGENT = frozenset({"health.medicine", "baby.formula"})  # often bumped one priority up
_PRIORITY_P = (0.15, 0.35, 0.28, 0.16, 0.06)  # priorities 1..5, few urgent
_REQUEST_QTY_P = (0.60, 0.28, 0.12)  # 1, 2 or 3 units
_WINDOWS: Sequence[tuple[str, str]] = (
    ("09:00", "13:00"),
    ("14:00", "18:00"),
    ("08:00", "12:00"),
    ("16:00", "19:00"),
)
_WINDOW_P = (0.4, 0.35, 0.15, 0.10)
_WINDOW_SHARE = 0.15
_RESTRICTED_SHARE = 0.10
_EXPIRED_SHARE = 0.15  # of perishable lots, already past their date on the day
_MAX_FILED_AGE_DAYS = 60

# (kind, share, capacity_kg, speed_kmh): cars dominate, vans are rare.
_VEHICLES: Sequence[tuple[str, float, float, float]] = (
    ("motorbike", 0.30, 40.0, 35.0),
    ("car", 0.60, 300.0, 45.0),
    ("van", 0.10, 900.0, 40.0),
)
_SHIFTS: Sequence[tuple[str, str]] = (("08:00", "14:00"), ("09:00", "17:00"), ("14:00", "20:00"))
_SHIFT_P = (0.35, 0.35, 0.30)

_COORD_DECIMALS = 5  # about 1 m: plenty, and keeps files small


@dataclass(frozen=True, slots=True)
class _Geo:
    """Per-governorate arrays (index = position in ``codes``) and the land outline."""

    codes: tuple[str, ...]
    slugs: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray
    poverty: np.ndarray
    income: np.ndarray
    extent_km: np.ndarray
    neighbours: tuple[tuple[str, ...], ...]
    land: tuple[np.ndarray, ...]  # polygons as (n, 2) arrays of lon, lat
    water: tuple[np.ndarray, ...]


@cache
def _geo(country: str = "TN") -> _Geo:
    regs = regions(country)
    with (data_dir() / "regions" / f"{country.upper()}.json").open(encoding="utf-8") as handle:
        outline = json.load(handle)["outline"]
    codes = tuple(regs)

    def extra(key: str) -> np.ndarray:
        return np.array([float(regs[c].extra[key]) for c in codes])

    return _Geo(
        codes=codes,
        slugs=tuple(_slug(regs[c].names.get("en", c)) for c in codes),
        lat=np.array([regs[c].lat for c in codes]),
        lon=np.array([regs[c].lon for c in codes]),
        population=np.array([float(regs[c].population) for c in codes]),
        poverty=extra("poverty_rate"),
        income=extra("income_index"),
        extent_km=extra("extent_km"),
        neighbours=tuple(tuple(regs[c].extra.get("neighbours", ())) for c in codes),
        land=tuple(np.asarray(p, dtype=float) for p in outline["land"]),
        water=tuple(np.asarray(p, dtype=float) for p in outline.get("water", ())),
    )


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


def _in_polygon(poly: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Even-odd ray casting, vectorised over points (loop over the few edges)."""
    inside = np.zeros(lon.shape, dtype=bool)
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        if ay == by:
            continue  # a horizontal edge never crosses a horizontal ray
        crosses = (ay > lat) != (by > lat)
        x_at = ax + (lat - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (lon < x_at)
    return inside


def on_land(lat: np.ndarray, lon: np.ndarray, country: str = "TN") -> np.ndarray:
    """Boolean mask: which points lie inside the country's shipped land outline.

    The outline is coarse and conservative (a strip along the coast and the big
    lagoons count as water), so ``True`` means "certainly on land".
    """
    geo = _geo(country)
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    land = np.zeros(lat.shape, dtype=bool)
    for poly in geo.land:
        land |= _in_polygon(poly, lon, lat)
    for poly in geo.water:
        land &= ~_in_polygon(poly, lon, lat)
    return land


def _scatter(
    rng: np.random.Generator, geo: _Geo, region: np.ndarray, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points around each region's capital, Gaussian with sigma = spread x extent.

    Points farther than one extent (so a point stays near its governorate) or
    off land are redrawn; the rare point still unplaced after 20 rounds falls
    back to the capital, which is on land.
    """
    n = region.size
    lat = geo.lat[region].copy()
    lon = geo.lon[region].copy()
    todo = np.arange(n)
    for _ in range(20):
        if todo.size == 0:
            break
        r = region[todo]
        ext = geo.extent_km[r]
        dy, dx = rng.normal(0.0, 1.0, size=(2, todo.size)) * (spread * ext)
        # Round before the land test so the written coordinate is the tested one.
        cand_lat = np.round(geo.lat[r] + dy / _KM_PER_DEG_LAT, _COORD_DECIMALS)
        cand_lon = np.round(
            geo.lon[r] + dx / (_KM_PER_DEG_LAT * np.cos(np.radians(geo.lat[r]))),
            _COORD_DECIMALS,
        )
        # Draws beyond one extent are redrawn like those off land (clipping them
        # onto the circle would pile points up on a visible ring).
        ok = (np.hypot(dx, dy) <= ext) & on_land(cand_lat, cand_lon)
        lat[todo[ok]] = cand_lat[ok]
        lon[todo[ok]] = cand_lon[ok]
        todo = todo[~ok]
    return lat, lon


def _seasonal_demand(category_ids: Sequence[str], month: int) -> np.ndarray:
    weights = []
    for cid in category_ids:
        w = _DEMAND_WEIGHT.get(cid, 2.0)
        if cid.startswith("winter.") or cid == "energy.gas":
            w *= _WINTER_BY_MONTH.get(month, 0.15)
        elif cid == "school.kit":
            w *= _SCHOOL_BY_MONTH.get(month, 0.5)
        weights.append(w)
    arr = np.array(weights)
    return arr / arr.sum()


def _typical_lot(weight_kg: np.ndarray) -> np.ndarray:
    """Median lot size per category: heavy units come in smaller lots."""
    return np.clip(40.0 / np.sqrt(weight_kg / 5.0), 10.0, 120.0)


def _hhmm_pairs(pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
    return [[a, b] for a, b in pairs]


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def generate_scenario(
    *,
    requests: int,
    supplies: int,
    volunteers: int,
    seed: int,
    day: date = date(2026, 11, 28),
) -> dict[str, Any]:
    """A realistic Tunisian aid day as a JSON-ready exchange-format scenario.

    ``requests``, ``supplies`` and ``volunteers`` are record counts (ids
    ``R1..``, ``S1..``, ``V1..``); the same ``seed`` and ``day`` always give
    the same dict. The scenario has no ``categories`` (the built-in catalogue
    applies) and no ``policy`` (the spec defaults apply).
    """
    for name, value in (("requests", requests), ("supplies", supplies), ("volunteers", volunteers)):
        _check_count(name, value)
    rng = np.random.default_rng(seed)
    geo = _geo("TN")
    catalogue = default_categories()
    cat_ids = tuple(catalogue)
    weight_kg = np.array([catalogue[c].weight_kg for c in cat_ids])
    perishable = np.array([catalogue[c].perishable for c in cat_ids])
    demand = _seasonal_demand(cat_ids, day.month)

    request_records = _requests(rng, geo, cat_ids, demand, requests, day)
    supply_records = _supplies(
        rng, geo, cat_ids, demand, weight_kg, perishable, supplies, requests, day
    )
    volunteer_records = _volunteers(rng, geo, volunteers)
    return {
        "version": 1,
        "date": day.isoformat(),
        "supplies": supply_records,
        "requests": request_records,
        "volunteers": volunteer_records,
        # Extra key (the spec lets readers ignore it): how to regenerate this day.
        "meta": {"generator": "engine.generate", "seed": seed, "country": "TN"},
    }


def _requests(
    rng: np.random.Generator,
    geo: _Geo,
    cat_ids: Sequence[str],
    demand: np.ndarray,
    n: int,
    day: date,
) -> list[dict[str, Any]]:
    # Need follows poor households: population x poverty rate.
    need = geo.population * geo.poverty
    region = rng.choice(len(geo.codes), size=n, p=need / need.sum())
    lat, lon = _scatter(rng, geo, region, spread=0.5)
    category = rng.choice(len(cat_ids), size=n, p=demand)
    quantity = rng.choice(3, size=n, p=_REQUEST_QTY_P) + 1
    priority = rng.choice(5, size=n, p=_PRIORITY_P) + 1
    # Medicine and infant formula are urgent more often than the rest.
    urgent_kind = np.isin(category, [i for i, c in enumerate(cat_ids) if c in _URGENT])
    priority = np.where(urgent_kind & (rng.random(n) < 0.3), np.minimum(priority + 1, 5), priority)
    age = rng.integers(0, _MAX_FILED_AGE_DAYS, size=n, endpoint=True)
    with_window = rng.random(n) < _WINDOW_SHARE
    window_kind = rng.choice(len(_WINDOWS), size=n, p=_WINDOW_P)

    filed_iso = [(day - timedelta(days=a)).isoformat() for a in range(_MAX_FILED_AGE_DAYS + 1)]
    windows = _hhmm_pairs(_WINDOWS)
    codes = geo.codes
    records = [
        {
            "id": f"R{i + 1}",
            "category": cat_ids[c],
            "quantity": q,
            "lat": la,
            "lon": lo,
            "region": codes[r],
            "priority": p,
            "filed": filed_iso[a],
        }
        for i, (c, q, la, lo, r, p, a) in enumerate(
            zip(
                category.tolist(),
                quantity.tolist(),
                lat.tolist(),
                lon.tolist(),
                region.tolist(),
                priority.tolist(),
                age.tolist(),
                strict=True,
            )
        )
    ]
    kinds = window_kind.tolist()
    for i in np.flatnonzero(with_window).tolist():
        records[i]["window"] = list(windows[kinds[i]])
    return records


def _depots(rng: np.random.Generator, geo: _Geo, n_lots: int) -> dict[str, np.ndarray | list[str]]:
    """Warehouses: national organisations everywhere plus local associations.

    Returns parallel arrays: region index, org name, location and the
    probability that a lot sits there (population x income, split among the
    governorate's depots by organisation size).
    """
    region: list[int] = []
    org: list[str] = []
    weight: list[float] = []
    for r, slug in enumerate(geo.slugs):
        for name, w in _NATIONAL_ORGS.items():
            region.append(r)
            org.append(name)
            weight.append(w)
        # Bigger governorates have more local associations (1..5).
        for k in range(1, 2 + min(4, int(geo.population[r] // 250_000))):
            region.append(r)
            org.append(f"assoc-{slug}-{k}")
            weight.append(_LOCAL_ORG_WEIGHT)
    reg = np.array(region)
    w = np.array(weight)
    # A small day uses fewer depots (random by size) so lots still share places.
    keep_n = max(3, math.ceil(n_lots / _LOTS_PER_DEPOT))
    if keep_n < reg.size:
        key = np.log(rng.random(reg.size)) / w  # weighted sampling without replacement
        keep = np.sort(np.argsort(-key)[:keep_n])
        reg, w, org = reg[keep], w[keep], [org[i] for i in keep.tolist()]
    lat, lon = _scatter(rng, geo, reg, spread=0.3)
    wealth = geo.population * geo.income
    per_region = np.bincount(reg, weights=w, minlength=len(geo.codes))
    prob = wealth[reg] * w / per_region[reg]
    return {"region": reg, "org": org, "lat": lat, "lon": lon, "p": prob / prob.sum()}


def _supplies(
    rng: np.random.Generator,
    geo: _Geo,
    cat_ids: Sequence[str],
    demand: np.ndarray,
    weight_kg: np.ndarray,
    perishable: np.ndarray,
    n: int,
    n_requests: int,
    day: date,
) -> list[dict[str, Any]]:
    if n == 0:
        return []
    depots = _depots(rng, geo, n)
    depot = rng.choice(depots["p"].size, size=n, p=depots["p"])
    # Lots per category so that donated units / requested units follow _SUPPLY_RATIO.
    ratio = np.array([_SUPPLY_RATIO.get(c, 1.0) for c in cat_ids])
    typical = _typical_lot(weight_kg)
    lot_share = demand * ratio / typical
    lot_share /= lot_share.sum()
    category = rng.choice(len(cat_ids), size=n, p=lot_share)
    # lot_share x typical is proportional to demand x ratio, so one scale factor
    # makes every category's expected stock = ratio x its expected requested units.
    mean_request_qty = float(np.dot(np.arange(1, 4), _REQUEST_QTY_P))
    if n_requests > 0:
        wanted = n_requests * mean_request_qty * float(np.dot(demand, ratio))
        scale = wanted / (n * float(np.dot(lot_share, typical)))
    else:
        scale = 1.0
    sigma = 0.7  # lot sizes vary a lot; the lognormal below has mean 1
    noise = rng.lognormal(-sigma * sigma / 2, sigma, size=n)
    quantity = np.clip(np.rint(typical[category] * scale * noise), 5, 200)
    # Perishables carry a date; some have already passed it (stock not yet cleared).
    expired = rng.random(n) < _EXPIRED_SHARE
    days_left = np.where(
        expired, -rng.integers(1, 15, size=n, endpoint=True), rng.integers(0, 45, size=n)
    )
    has_expiry = perishable[category]
    restricted = rng.random(n) < _RESTRICTED_SHARE

    region = np.asarray(depots["region"])[depot]
    org = depots["org"]
    lat = np.asarray(depots["lat"])[depot]
    lon = np.asarray(depots["lon"])[depot]
    codes = geo.codes
    records = [
        {
            "id": f"S{i + 1}",
            "category": cat_ids[c],
            "quantity": q,
            "lat": la,
            "lon": lo,
            "region": codes[r],
            "org": org[d],
        }
        for i, (c, q, la, lo, r, d) in enumerate(
            zip(
                category.tolist(),
                quantity.astype(int).tolist(),
                lat.tolist(),
                lon.tolist(),
                region.tolist(),
                depot.tolist(),
                strict=True,
            )
        )
    ]
    for i in np.flatnonzero(has_expiry).tolist():
        records[i]["expires"] = (day + timedelta(days=int(days_left[i]))).isoformat()
    # Donor restriction: only the depot's governorate and its neighbours.
    allowed = [[code, *sorted(nb)] for code, nb in zip(codes, geo.neighbours, strict=True)]
    for i in np.flatnonzero(restricted).tolist():
        records[i]["regions"] = list(allowed[region[i]])
    return records


def _volunteers(rng: np.random.Generator, geo: _Geo, n: int) -> list[dict[str, Any]]:
    # Volunteers live where people live.
    region = rng.choice(len(geo.codes), size=n, p=geo.population / geo.population.sum())
    lat, lon = _scatter(rng, geo, region, spread=0.4)
    vehicle = rng.choice(len(_VEHICLES), size=n, p=[v[1] for v in _VEHICLES])
    shift = rng.choice(len(_SHIFTS), size=n, p=_SHIFT_P)
    shifts = _hhmm_pairs(_SHIFTS)
    return [
        {
            "id": f"V{i + 1}",
            "lat": la,
            "lon": lo,
            "capacity_kg": _VEHICLES[v][2],
            "shift": list(shifts[s]),
            "speed_kmh": _VEHICLES[v][3],
            "vehicle": _VEHICLES[v][0],  # extra key: informative only
            "region": geo.codes[r],  # extra key: home governorate
        }
        for i, (la, lo, v, s, r) in enumerate(
            zip(
                lat.tolist(),
                lon.tolist(),
                vehicle.tolist(),
                shift.tolist(),
                region.tolist(),
                strict=True,
            )
        )
    ]
