"""Shipped reference data: regions per country and the default category catalogue.

The files live in the checkout's top-level ``data/`` folder; a wheel carries the
same folder as ``engine/_data`` (see ``pyproject.toml``). Regions are data, not
code: another country is a new ``data/regions/<CC>.json`` file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.scenario.model import Category


@dataclass(frozen=True, slots=True)
class Region:
    """An administrative region (a governorate in Tunisia)."""

    code: str  # ISO 3166-2
    names: Mapping[str, str]  # language code -> name (ar, fr, en)
    capital: str
    lat: float  # the capital's coordinates
    lon: float
    population: int
    extra: Mapping[str, Any]  # indicators used by the generator (poverty rate, ...)


def data_dir() -> Path:
    """The reference data folder, from an installed wheel or from a checkout."""
    packaged = resources.files("engine").joinpath("_data")
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "data"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("Jessr reference data not found (neither engine/_data nor data/)")


def _read_json(relative: str) -> Any:
    with (data_dir() / relative).open(encoding="utf-8") as handle:
        return json.load(handle)


@cache
def default_categories() -> Mapping[str, Category]:
    """The built-in catalogue, used when a scenario has no ``categories``."""
    records = _read_json("categories.json")["categories"]
    return MappingProxyType(
        {
            rec["id"]: Category(
                id=rec["id"],
                unit=rec["unit"],
                weight_kg=float(rec["weight_kg"]),
                perishable=bool(rec.get("perishable", False)),
                names=MappingProxyType(dict(rec.get("names", {}))),
            )
            for rec in records
        }
    )


@cache
def regions(country: str = "TN") -> Mapping[str, Region]:
    """Regions of ``country`` keyed by ISO 3166-2 code."""
    doc = _read_json(f"regions/{country.upper()}.json")
    out: dict[str, Region] = {}
    for rec in doc["regions"]:
        known = {"code", "names", "capital", "population"}
        out[rec["code"]] = Region(
            code=rec["code"],
            names=MappingProxyType(dict(rec["names"])),
            capital=rec["capital"]["name"],
            lat=float(rec["capital"]["lat"]),
            lon=float(rec["capital"]["lon"]),
            population=int(rec["population"]),
            extra=MappingProxyType({k: v for k, v in rec.items() if k not in known}),
        )
    return MappingProxyType(out)
