"""Shipped reference data: Tunisia's governorates and the default category catalogue."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from engine.generate import on_land
from engine.reference import data_dir, default_categories, regions

REPO = Path(__file__).resolve().parents[2]

ISO_CODES = {
    "TN-11": "Tunis",
    "TN-12": "Ariana",
    "TN-13": "Ben Arous",
    "TN-14": "La Manouba",
    "TN-21": "Nabeul",
    "TN-22": "Zaghouan",
    "TN-23": "Bizerte",
    "TN-31": "Béja",
    "TN-32": "Jendouba",
    "TN-33": "Le Kef",
    "TN-34": "Siliana",
    "TN-41": "Kairouan",
    "TN-42": "Kasserine",
    "TN-43": "Sidi Bouzid",
    "TN-51": "Sousse",
    "TN-52": "Monastir",
    "TN-53": "Mahdia",
    "TN-61": "Sfax",
    "TN-71": "Gafsa",
    "TN-72": "Tozeur",
    "TN-73": "Kébili",
    "TN-81": "Gabès",
    "TN-82": "Médenine",
    "TN-83": "Tataouine",
}


def _raw_tn() -> dict:
    with (data_dir() / "regions" / "TN.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def test_data_dir_resolves_from_checkout() -> None:
    folder = data_dir()
    assert folder.is_dir()
    assert (folder / "categories.json").is_file()
    assert (folder / "regions" / "TN.json").is_file()


def test_wheel_carries_the_data_folder() -> None:
    # Building a wheel is too slow for the suite; check the mapping that makes
    # installs find the same files under engine/_data instead.
    with (REPO / "pyproject.toml").open("rb") as handle:
        pyproject = tomllib.load(handle)
    force = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force.get("data") == "engine/_data"
    assert (REPO / "data" / "regions" / "TN.json").is_file()


def test_all_24_governorates_with_unique_iso_codes() -> None:
    regs = regions("TN")
    assert len(regs) == 24
    assert set(regs) == set(ISO_CODES)
    doc_codes = [rec["code"] for rec in _raw_tn()["regions"]]
    assert len(doc_codes) == len(set(doc_codes)) == 24
    assert set(regions("tn")) == set(regs)  # the country code is case-insensitive


def test_names_in_three_languages() -> None:
    for code, reg in regions("TN").items():
        assert set(reg.names) >= {"ar", "fr", "en"}, code
        assert reg.names["fr"] == ISO_CODES[code]
        assert all(isinstance(v, str) and v.strip() for v in reg.names.values())
        # The Arabic name is in Arabic script.
        assert any("\u0600" <= ch <= "\u06ff" for ch in reg.names["ar"]), code
        assert reg.capital


def test_capitals_inside_tunisia_and_on_land() -> None:
    regs = regions("TN")
    lat = np.array([r.lat for r in regs.values()])
    lon = np.array([r.lon for r in regs.values()])
    assert ((lat >= 30.2) & (lat <= 37.6)).all()
    assert ((lon >= 7.5) & (lon <= 11.7)).all()
    assert on_land(lat, lon).all()


def test_indicators_are_plausible() -> None:
    regs = regions("TN")
    total = sum(r.population for r in regs.values())
    assert total == 10_982_754  # RGPH 2014 total
    for code, reg in regs.items():
        assert 0 < reg.extra["poverty_rate"] < 60, code
        assert 0.3 < reg.extra["income_index"] < 2.0, code
        assert 5 <= reg.extra["extent_km"] <= 60, code
    # Interior and west are poorer than the capital area.
    assert regs["TN-41"].extra["poverty_rate"] > 3 * regs["TN-11"].extra["poverty_rate"]
    assert regs["TN-42"].extra["income_index"] < regs["TN-11"].extra["income_index"]


def test_neighbours_are_symmetric_known_codes() -> None:
    regs = regions("TN")
    for code, reg in regs.items():
        nbs = reg.extra["neighbours"]
        assert nbs, code
        assert code not in nbs
        for other in nbs:
            assert other in regs
            assert code in regs[other].extra["neighbours"], (code, other)


def test_outline_rejects_sea_and_lagoons() -> None:
    sea = {
        "Gulf of Tunis": (37.00, 10.50),
        "Gulf of Hammamet": (36.00, 10.80),
        "off Sfax": (34.60, 11.00),
        "Gulf of Gabes": (34.00, 10.40),
        "Lake of Tunis": (36.81, 10.25),
        "Lake Bizerte": (37.19, 9.86),
        "Mediterranean north": (37.50, 9.50),
    }
    lat = np.array([p[0] for p in sea.values()])
    lon = np.array([p[1] for p in sea.values()])
    assert not on_land(lat, lon).any()
    land = np.array([[35.0, 9.0], [33.0, 9.5], [31.0, 10.0], [36.5, 9.5]])
    assert on_land(land[:, 0], land[:, 1]).all()


def test_category_catalogue_complete() -> None:
    cats = default_categories()
    assert len(cats) >= 10
    assert {"food.basket", "winter.blanket", "health.medicine"} <= set(cats)
    assert any(c.perishable for c in cats.values())
    for cid, cat in cats.items():
        assert cat.id == cid
        assert cat.unit
        assert cat.weight_kg > 0
        assert {"ar", "fr", "en"} <= set(cat.names), cid


@pytest.mark.parametrize("country", ["TN"])
def test_source_is_stated(country: str) -> None:
    doc = _raw_tn()
    assert doc["country"] == country
    assert doc["version"] == 1
    assert "2014" in doc["source"] and "approximate" in doc["source"]
