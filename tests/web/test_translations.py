"""Every string of the interface is translated into Arabic and French, and the
compiled catalogues (.mo, what the app reads) match their .po sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CATALOGUES = sorted([WEB / "translations", *WEB.glob("*/translations")])


def _extracted(directory: Path) -> set[str]:
    """The msgids the sources of ``directory``'s catalogue contain (pybabel extract)."""
    pot = directory / "messages.pot"
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


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
    po_pairs = {(m.id, m.string) for m in catalog if m.id}
    mo_pairs = {(m.id, m.string) for m in compiled if m.id}
    assert po_pairs == mo_pairs, (
        f"{mo_path.relative_to(ROOT)} is stale: scripts/translations.sh compile"
    )


def test_pot_files_are_current(tmp_path: Path) -> None:
    """The committed .pot files list exactly the strings the sources contain."""
    pybabel = Path(sys.executable).with_name("pybabel")
    for directory in CATALOGUES:
        sources = (
            ["web/templates", *map(str, WEB.glob("*.py"))]
            if directory == WEB / "translations"
            else [str(directory.parent.relative_to(ROOT))]
        )
        out = tmp_path / "messages.pot"
        subprocess.run(
            [
                str(pybabel),
                "extract",
                "-F",
                "web/babel.cfg",
                "-k",
                "_l",
                "-k",
                "lazy_gettext",
                "--no-location",
                "--omit-header",
                "--sort-output",
                "-o",
                str(out),
                *sources,
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        with out.open("rb") as fh:
            fresh = {m.id for m in read_po(fh) if m.id}
        assert fresh == {m for m in _extracted_ids(directory)}, (
            f"{directory.relative_to(ROOT)}: sources changed; run scripts/translations.sh update"
        )


def _extracted_ids(directory: Path) -> set[object]:
    with (directory / "messages.pot").open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}
