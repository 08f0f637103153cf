"""The demo's import files: one realistic Tunisian aid day, as an organization would file it.

:func:`write_demo_day` turns a day of :func:`engine.generate.generate_scenario` into the
five import files of ``shared/spec/platform.md`` (section Imports), in the order they
are imported: ``organizations.csv``, ``sites.csv``, ``inventory.csv``,
``requests.csv``, ``volunteers.csv``. ``make demo`` imports them with ``jessr
import``; they also make a realistic example for anyone preparing their own files.

What the scenario does not say, this module adds, drawn from a second random stream
of the same seed (so a seed and a day always give the same files, byte for byte):

* **organizations**: the generator's depot owners are national civil-society
  organizations (the Tunisian Red Crescent ``crt``, the scouts, the women's union
  ``unft``, the human-rights league ``ltdh``) and local associations (one per
  governorate at least: ``amal-sfax``, ``nour-sfax`` …);
* **sites**: one depot per organization and governorate where it holds stock; every
  lot is stored at its depot (``site`` column);
* **households**: requests are grouped into families of one to four requests in one
  governorate, each request of a family in another category (so the household rule —
  one open request per household and category within 14 days — never rejects a
  row); a family lives at one place, has one name and one phone, files mostly
  through one organization and sometimes through another (the platform recognises it
  across organizations), and is known by a fake 8-digit national ID number
  (unique per family; never a real person's);
* names are Tunisian first names and family names written either in Latin script, as
  on French-language forms, or in Arabic script; phones are Tunisian mobile numbers;
* **volunteers** belong to an organization of their home governorate; most are
  available every day, some on listed weekdays or dates (a few not on the demo day).

Entry point: ``python -m engine.demo_data OUTDIR [--requests N] [--supplies N]
[--volunteers N] [--seed N] [--date YYYY-MM-DD]``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from engine.cli import iso_date, nonnegative_int
from engine.generate import generate_scenario
from engine.imports.schemas import Kind
from engine.reference import regions

__all__ = ["COLUMNS", "IMPORT_ORDER", "DemoDay", "demo_tables", "write_demo_day"]

# The order a fresh database takes them in: organizations before what they own.
IMPORT_ORDER: tuple[Kind, ...] = (
    Kind.ORGANIZATIONS,
    Kind.SITES,
    Kind.INVENTORY,
    Kind.REQUESTS,
    Kind.VOLUNTEERS,
)

# The header of each file (the spec's column names; optional ones included).
COLUMNS: Mapping[Kind, tuple[str, ...]] = {
    Kind.ORGANIZATIONS: ("code", "name", "region"),
    Kind.SITES: ("org", "code", "name", "region", "lat", "lon"),
    Kind.INVENTORY: (
        "org",
        "ref",
        "category",
        "quantity",
        "site",
        "expires",
        "regions",
        "donor",
        "received",
    ),
    Kind.REQUESTS: (
        "org",
        "ref",
        "household",
        "category",
        "quantity",
        "priority",
        "region",
        "lat",
        "lon",
        "filed",
        "window_start",
        "window_end",
        "phone",
        "name",
    ),
    Kind.VOLUNTEERS: (
        "org",
        "ref",
        "name",
        "lat",
        "lon",
        "capacity_kg",
        "shift_start",
        "shift_end",
        "speed_kmh",
        "phone",
        "vehicle",
        "days",
    ),
}

_CAPITAL = "TN-11"  # national organizations are registered in Tunis
_NATIONAL: Mapping[str, str] = {
    "crt": "Croissant-Rouge tunisien",
    "scouts": "Scouts tunisiens",
    "unft": "Union nationale de la femme tunisienne",
    "ltdh": "Ligue tunisienne pour la défense des droits de l'homme",
}
# Local associations: the generator's k-th association of a governorate is the k-th here.
_LOCAL: Sequence[tuple[str, str]] = (
    ("amal", "Association El Amal"),  # hope
    ("nour", "Association Nour"),  # light
    ("rahma", "Association Rahma pour la solidarité"),  # mercy
    ("khir", "Association El Khir"),  # good deeds
    ("wafa", "Association El Wafa"),  # loyalty
)
# Who files a family's requests, and who a volunteer rides for (the rest: a local
# association of the governorate). The human-rights league refers families; the
# Red Crescent and the scouts carry most of the load.
_REQUEST_ORG_P: Mapping[str, float] = {"crt": 0.35, "unft": 0.15, "scouts": 0.10, "ltdh": 0.05}
_VOLUNTEER_ORG_P: Mapping[str, float] = {"crt": 0.30, "scouts": 0.30, "unft": 0.10}
_OTHER_ORG_SHARE = 0.2  # a family's request filed through another organization
_FAMILY_SIZE_P = (0.55, 0.27, 0.12, 0.06)  # requests per family: 1..4
_FAMILY_SCAN = 60  # requests looked at to find a family's next category

_DONORS: Sequence[str] = (
    "Dons de particuliers",
    "Collecte en grande surface",
    "Entreprise locale",
    "Collecte des écoles",
    "Municipalité",
    "Diaspora tunisienne",
    "Fondation privée",
    "Campagne d'hiver",
)

_MALE: Sequence[tuple[str, str]] = (
    ("Mohamed", "محمد"),
    ("Ahmed", "أحمد"),
    ("Ali", "علي"),
    ("Youssef", "يوسف"),
    ("Hamza", "حمزة"),
    ("Karim", "كريم"),
    ("Mehdi", "مهدي"),
    ("Walid", "وليد"),
    ("Sami", "سامي"),
    ("Hichem", "هشام"),
    ("Nabil", "نبيل"),
    ("Slim", "سليم"),
    ("Bilel", "بلال"),
    ("Mourad", "مراد"),
    ("Habib", "حبيب"),
    ("Lotfi", "لطفي"),
    ("Anis", "أنيس"),
    ("Tarek", "طارق"),
    ("Omar", "عمر"),
    ("Khaled", "خالد"),
)
_FEMALE: Sequence[tuple[str, str]] = (
    ("Fatma", "فاطمة"),
    ("Amel", "أمل"),
    ("Leila", "ليلى"),
    ("Sonia", "سنية"),
    ("Nadia", "نادية"),
    ("Mariem", "مريم"),
    ("Ines", "إيناس"),
    ("Salma", "سلمى"),
    ("Rim", "ريم"),
    ("Sana", "سناء"),
    ("Hela", "هالة"),
    ("Olfa", "ألفة"),
    ("Monia", "منية"),
    ("Samia", "سامية"),
    ("Najet", "ناجية"),
    ("Khadija", "خديجة"),
    ("Asma", "أسماء"),
    ("Emna", "آمنة"),
    ("Wafa", "وفاء"),
    ("Zeineb", "زينب"),
)
_FAMILY: Sequence[tuple[str, str]] = (
    ("Ben Salah", "بن صالح"),
    ("Trabelsi", "الطرابلسي"),
    ("Gharbi", "الغربي"),
    ("Hammami", "الحمامي"),
    ("Jlassi", "الجلاصي"),
    ("Mejri", "الماجري"),
    ("Ayari", "العياري"),
    ("Dridi", "الدريدي"),
    ("Saidi", "السعيدي"),
    ("Chaabane", "شعبان"),
    ("Ben Ali", "بن علي"),
    ("Khelifi", "الخليفي"),
    ("Mansouri", "المنصوري"),
    ("Brahmi", "البراهمي"),
    ("Sassi", "الساسي"),
    ("Riahi", "الرياحي"),
    ("Jebali", "الجبالي"),
    ("Ferchichi", "الفرشيشي"),
    ("Zouari", "الزواري"),
    ("Mabrouk", "مبروك"),
    ("Baccouche", "بكوش"),
    ("Hamdi", "حمدي"),
    ("Ouertani", "الورتاني"),
    ("Kefi", "الكافي"),
)
_ARABIC_NAME_SHARE = 0.45  # names written in Arabic script; the rest as on French forms
_NO_PHONE_SHARE = 0.12  # families without a phone on file
_MOBILE_PREFIX = ("2", "5", "9", "4")  # Tunisian mobile numbers start with these
_MOBILE_PREFIX_P = (0.40, 0.30, 0.25, 0.05)
# Tunisian national identity card numbers have 8 digits and mostly start with 0 or 1.
_ID_SPACE = 20_000_000

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EVERY_DAY_SHARE = 0.65  # volunteers with an empty `days` cell
_ABSENT_SHARE = 0.10  # volunteers whose listed days leave out the demo day
_BY_DATE_SHARE = 0.25  # of those with listed days, listed as dates instead of weekdays


@dataclass(frozen=True, slots=True)
class DemoDay:
    """The files of one demo day: its date and each file's path and row count."""

    day: date
    files: Mapping[Kind, Path]  # in IMPORT_ORDER
    rows: Mapping[Kind, int]


def _ascii_slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain.lower()).split())


def _of(place: str) -> str:
    """French "of" before a place name: de Sfax, d'Ariana, du Kef, de La Manouba."""
    if place.startswith("Le "):
        return "du " + place[3:]
    if unicodedata.normalize("NFKD", place)[0].upper() in "AEIOUH":
        return "d'" + place
    return "de " + place


def _num(value: float) -> str:
    text = repr(round(float(value), 5))  # coordinates to about 1 m, as the generator
    return text.removesuffix(".0")


class _People:
    """Names and phones drawn from one random stream."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def name(self) -> str:
        given = _FEMALE if self.rng.random() < 0.5 else _MALE
        first = given[int(self.rng.integers(len(given)))]
        family = _FAMILY[int(self.rng.integers(len(_FAMILY)))]
        script = 1 if self.rng.random() < _ARABIC_NAME_SHARE else 0
        return f"{first[script]} {family[script]}"

    def phone(self) -> str:
        prefix = _MOBILE_PREFIX[int(self.rng.choice(len(_MOBILE_PREFIX), p=_MOBILE_PREFIX_P))]
        digits = prefix + "".join(str(d) for d in self.rng.integers(0, 10, size=7).tolist())
        return f"+216 {digits[:2]} {digits[2:5]} {digits[5:]}"


def demo_tables(
    *,
    requests: int = 2000,
    supplies: int = 300,
    volunteers: int = 60,
    seed: int = 7,
    day: date = date(2026, 11, 28),
) -> dict[Kind, list[dict[str, str]]]:
    """The rows of the five files (column -> text, empty text for an empty cell).

    The same arguments always give the same rows. Raises ``ValueError`` for a
    negative count (as :func:`engine.generate.generate_scenario`).
    """
    scenario = generate_scenario(
        requests=requests, supplies=supplies, volunteers=volunteers, seed=seed, day=day
    )
    # A second stream for what the scenario does not say; the scenario's own draws
    # stay those of `jessr generate --seed` for the same counts.
    rng = np.random.default_rng([seed, 21])
    people = _People(rng)
    regs = regions("TN")
    orgs = _Organizations(regs)
    for supply in scenario["supplies"]:
        orgs.local_code(supply["org"], supply["region"])  # registers the depot's owner
    tables: dict[Kind, list[dict[str, str]]] = {}
    sites, inventory = _inventory(scenario, orgs, rng, day)
    request_rows = _requests(scenario, orgs, rng, people)
    volunteer_rows = _volunteers(scenario, orgs, rng, people, day)
    tables[Kind.ORGANIZATIONS] = orgs.rows()
    tables[Kind.SITES] = sites
    tables[Kind.INVENTORY] = inventory
    tables[Kind.REQUESTS] = request_rows
    tables[Kind.VOLUNTEERS] = volunteer_rows
    return {kind: tables[kind] for kind in IMPORT_ORDER}


class _Organizations:
    """The organizations of the day: national ones and each governorate's associations."""

    def __init__(self, regs: Mapping[str, Any]) -> None:
        self.regs = regs
        self.names: dict[str, tuple[str, str]] = {
            code: (name, _CAPITAL) for code, name in _NATIONAL.items()
        }
        self.locals: dict[str, list[str]] = {}  # region -> local association codes
        for region in regs:  # every governorate has at least its first association
            self._local(region, 1)

    def _local(self, region: str, k: int) -> str:
        word, base = _LOCAL[(k - 1) % len(_LOCAL)]
        place = self.regs[region].names["fr"]
        code = f"{word}-{_ascii_slug(place)}"
        if code not in self.names:
            self.names[code] = (f"{base} {_of(place)}", region)
            self.locals.setdefault(region, []).append(code)
        return code

    def local_code(self, generated: str, region: str) -> str:
        """The code of the generator's depot owner ``generated`` (``assoc-<slug>-<k>``)."""
        if generated in _NATIONAL:
            return generated
        k = int(generated.rsplit("-", 1)[1]) if generated.startswith("assoc-") else 1
        return self._local(region, k)

    def pick(self, rng: np.random.Generator, region: str, weights: Mapping[str, float]) -> str:
        """A national organization by ``weights``, else one of the region's associations."""
        draw = rng.random()
        for code, p in weights.items():
            if draw < p:
                return code
            draw -= p
        options = self.locals[region]
        return options[int(rng.integers(len(options)))]

    def rows(self) -> list[dict[str, str]]:
        national = [c for c in self.names if c in _NATIONAL]
        local = sorted((c for c in self.names if c not in _NATIONAL), key=self._local_order)
        return [
            {"code": c, "name": self.names[c][0], "region": self.names[c][1]}
            for c in national + local
        ]

    def _local_order(self, code: str) -> tuple[str, int]:
        word = code.split("-", 1)[0]
        return self.names[code][1], [w for w, _ in _LOCAL].index(word)


def _inventory(
    scenario: Mapping[str, Any], orgs: _Organizations, rng: np.random.Generator, day: date
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Sites (one per owner and governorate) and the lots stored there."""
    sites: dict[tuple[str, str], dict[str, str]] = {}
    lots: list[dict[str, str]] = []
    counters: dict[str, int] = {}
    for supply in scenario["supplies"]:
        org = orgs.local_code(supply["org"], supply["region"])
        region = supply["region"]
        site = sites.get((org, region))
        if site is None:
            place = orgs.regs[region].names["fr"]
            national = org in _NATIONAL
            site = {
                "org": org,
                "code": _ascii_slug(place) if national else "depot",
                "name": f"Dépôt régional {_of(place)}" if national else "Local de l'association",
                "region": region,
                "lat": _num(supply["lat"]),
                "lon": _num(supply["lon"]),
            }
            sites[(org, region)] = site
        counters[org] = counters.get(org, 0) + 1
        received = day - timedelta(days=int(rng.integers(1, 31)))
        lots.append(
            {
                "org": org,
                "ref": f"L{counters[org]:04d}",
                "category": supply["category"],
                "quantity": str(supply["quantity"]),
                "site": site["code"],
                "expires": supply.get("expires", ""),
                "regions": ";".join(supply.get("regions", ())),
                "donor": _DONORS[int(rng.integers(len(_DONORS)))],
                "received": received.isoformat(),
            }
        )
    return list(sites.values()), lots


def _families(requests: Sequence[Mapping[str, Any]], rng: np.random.Generator) -> list[list[int]]:
    """Requests grouped into families: same governorate, one request per category."""
    by_region: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        by_region.setdefault(request["region"], []).append(index)
    families: list[list[int]] = []
    for region in sorted(by_region):
        pool = [by_region[region][i] for i in rng.permutation(len(by_region[region])).tolist()]
        used = [False] * len(pool)
        start = 0
        while True:
            while start < len(pool) and used[start]:
                start += 1
            if start == len(pool):
                break
            size = int(rng.choice(len(_FAMILY_SIZE_P), p=_FAMILY_SIZE_P)) + 1
            used[start] = True
            family = [pool[start]]
            categories = {requests[pool[start]]["category"]}
            for j in range(start + 1, min(len(pool), start + _FAMILY_SCAN)):
                if len(family) == size:
                    break
                if not used[j] and requests[pool[j]]["category"] not in categories:
                    used[j] = True
                    family.append(pool[j])
                    categories.add(requests[pool[j]]["category"])
            families.append(family)
    return families


def _requests(
    scenario: Mapping[str, Any],
    orgs: _Organizations,
    rng: np.random.Generator,
    people: _People,
) -> list[dict[str, str]]:
    requests = scenario["requests"]
    families = _families(requests, rng)
    ids = rng.choice(_ID_SPACE, size=len(families), replace=False).tolist()
    rows: list[dict[str, str] | None] = [None] * len(requests)
    for family, national_id in zip(families, ids, strict=True):
        home = requests[family[0]]
        region = home["region"]
        org = orgs.pick(rng, region, _REQUEST_ORG_P)
        name = people.name()
        phone = people.phone() if rng.random() >= _NO_PHONE_SHARE else ""
        for index in family:
            request = requests[index]
            filer = org
            if len(family) > 1 and rng.random() < _OTHER_ORG_SHARE:
                filer = orgs.pick(rng, region, _REQUEST_ORG_P)
            window = request.get("window") or ("", "")
            rows[index] = {
                "org": filer,
                "ref": "",  # numbered below, in file order
                "household": f"{national_id:08d}",
                "category": request["category"],
                "quantity": str(request["quantity"]),
                "priority": str(request["priority"]),
                "region": region,
                "lat": _num(home["lat"]),  # a family lives at one place
                "lon": _num(home["lon"]),
                "filed": request["filed"],
                "window_start": window[0],
                "window_end": window[1],
                "phone": phone,
                "name": name,
            }
    # File order is the generator's request order (R1, R2, …), refs count per org in it.
    out = [row for row in rows if row is not None]
    counters: dict[str, int] = {}
    for row in out:
        counters[row["org"]] = counters.get(row["org"], 0) + 1
        row["ref"] = f"R{counters[row['org']]:05d}"
    return out


def _volunteers(
    scenario: Mapping[str, Any],
    orgs: _Organizations,
    rng: np.random.Generator,
    people: _People,
    day: date,
) -> list[dict[str, str]]:
    rows = []
    counters: dict[str, int] = {}
    weekday = day.weekday()
    for volunteer in scenario["volunteers"]:
        org = orgs.pick(rng, volunteer["region"], _VOLUNTEER_ORG_P)
        counters[org] = counters.get(org, 0) + 1
        draw = rng.random()
        if draw < _EVERY_DAY_SHARE:
            days = ""
        else:
            absent = draw >= 1.0 - _ABSENT_SHARE
            others = [d for d in range(7) if d != weekday]
            chosen = sorted(rng.choice(others, size=3, replace=False).tolist())
            if not absent:
                chosen = sorted([*chosen[:2], weekday])
            if rng.random() < _BY_DATE_SHARE:  # this week's dates, Monday first
                monday = day - timedelta(days=weekday)
                days = ";".join((monday + timedelta(days=d)).isoformat() for d in chosen)
            else:
                days = ";".join(_WEEKDAYS[d] for d in chosen)
        rows.append(
            {
                "org": org,
                "ref": f"V{counters[org]:03d}",
                "name": people.name(),
                "lat": _num(volunteer["lat"]),
                "lon": _num(volunteer["lon"]),
                "capacity_kg": _num(volunteer["capacity_kg"]),
                "shift_start": volunteer["shift"][0],
                "shift_end": volunteer["shift"][1],
                "speed_kmh": _num(volunteer["speed_kmh"]),
                "phone": people.phone(),
                "vehicle": volunteer.get("vehicle", ""),
                "days": days,
            }
        )
    return rows


def write_demo_day(
    folder: str | Path,
    *,
    requests: int = 2000,
    supplies: int = 300,
    volunteers: int = 60,
    seed: int = 7,
    day: date = date(2026, 11, 28),
) -> DemoDay:
    """Write the five import files of a demo day into ``folder`` (created if needed).

    Files are UTF-8 CSV with a header row, named ``<kind>.csv``; existing files of
    those names are replaced.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tables = demo_tables(
        requests=requests, supplies=supplies, volunteers=volunteers, seed=seed, day=day
    )
    files: dict[Kind, Path] = {}
    for kind, rows in tables.items():
        path = out / f"{kind.value}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS[kind], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        files[kind] = path
    return DemoDay(day, files, {kind: len(rows) for kind, rows in tables.items()})


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m engine.demo_data OUTDIR …``: write the files, list them."""
    parser = argparse.ArgumentParser(
        prog="python -m engine.demo_data",
        description="Write the import files of a realistic Tunisian aid day (CSV).",
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--requests", type=nonnegative_int, default=2000)
    parser.add_argument("--supplies", type=nonnegative_int, default=300)
    parser.add_argument("--volunteers", type=nonnegative_int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--date", type=iso_date, default=date(2026, 11, 28), help="the day")
    ns = parser.parse_args(argv)
    demo = write_demo_day(
        ns.outdir,
        requests=ns.requests,
        supplies=ns.supplies,
        volunteers=ns.volunteers,
        seed=ns.seed,
        day=ns.date,
    )
    for kind, path in demo.files.items():
        print(f"{path}  ({demo.rows[kind]} rows)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
