"""Every string of the interface is translated into Arabic and French, and the
compiled catalogues (.mo, what the app reads) match their .po sources."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
_spec = importlib.util.spec_from_file_location("translations", ROOT / "scripts" / "translations.py")
assert _spec is not None and _spec.loader is not None
translations = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(translations)
CATALOGUES = translations.catalogues()


def _extracted(directory: Path) -> set[str]:
    """The msgids the sources of ``directory``'s catalogue contain (pybabel extract)."""
    pot = directory / "messages.pot"
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("directory", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_catalogue_is_translated_and_compiled(directory: Path, lang: str) -> None:
    po_path = directory / lang / "LC_MESSAGES" / "messages.po"
    mo_path = po_path.with_suffix(".mo")
    assert po_path.exists(), f"missing {po_path.relative_to(ROOT)}: scripts/translations.sh update"
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    wanted = _extracted(directory)
    untranslated = sorted(
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    )
    assert untranslated == [], f"{po_path.relative_to(ROOT)} untranslated: {untranslated}"
    present = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    missing = sorted(wanted - present)
    assert missing == [], f"{po_path.relative_to(ROOT)} lacks: {missing}"
    assert mo_path.exists(), f"missing {mo_path.relative_to(ROOT)}: scripts/translations.sh compile"
    with mo_path.open("rb") as fh:
        compiled = read_mo(fh)
    # Plural entries: read_po gives tuples, read_mo lists.
    po_pairs = {(_key(m.id), _key(m.string)) for m in catalog if m.id}
    mo_pairs = {(_key(m.id), _key(m.string)) for m in compiled if m.id}
    assert po_pairs == mo_pairs, (
        f"{mo_path.relative_to(ROOT)} is stale: scripts/translations.sh compile"
    )


def test_pot_files_are_current(tmp_path: Path) -> None:
    """The committed .pot files list exactly the strings the sources contain."""
    for directory in CATALOGUES:
        fresh_pot = tmp_path / "messages.pot"
        translations.extract(directory, fresh_pot)
        with fresh_pot.open("rb") as fh:
            fresh = {m.id for m in read_po(fh) if m.id}
        with (directory / "messages.pot").open("rb") as fh:
            committed = {m.id for m in read_po(fh) if m.id}
        assert fresh == committed, (
            f"{directory.relative_to(ROOT)}: sources changed; run "
            "python scripts/translations.py update (then translate and compile)"
        )
