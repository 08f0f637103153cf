"""Translation catalogues of the web interface (Flask-Babel).

Every ``translations/`` folder under ``web/`` is one catalogue, holding the
strings of the folder beside it (minus sub-folders that have a catalogue of
their own); ``web/translations`` holds the shared ones (``web/templates`` and the
modules directly in ``web/``). Blueprints keep their own catalogues so that their
strings and translations travel with their code.

    python scripts/translations.py update    # extract strings, update ar/fr .po
    python scripts/translations.py compile   # .po -> .mo (the app reads .mo)

Translate in the .po files between the two steps; ``tests/web/test_translations.py``
fails on a string left untranslated, a stale .pot or a .mo older than its .po.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
LANGS = ("ar", "fr")


def catalogues() -> list[Path]:
    """Every catalogue folder (``.../translations``), the shared one first."""
    found = sorted(p for p in WEB.rglob("translations") if p.is_dir() and p != WEB / "translations")
    return [WEB / "translations", *found]


def sources(catalogue: Path) -> list[Path]:
    """The files whose strings belong to ``catalogue``."""
    if catalogue == WEB / "translations":
        return sorted([*(WEB / "templates").rglob("*.html"), *WEB.glob("*.py")])
    base = catalogue.parent
    others = [c.parent for c in catalogues() if c.parent != base and base in c.parents]
    files = [*base.rglob("*.py"), *base.rglob("*.html"), *base.rglob("*.js")]
    return sorted(f for f in files if not any(o in f.parents for o in others))


def extract(catalogue: Path, target: Path) -> None:
    """Write the .pot of ``catalogue``'s sources to ``target``."""
    files = [str(f.relative_to(ROOT)) for f in sources(catalogue)]
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "files"
        args = [
            str(Path(sys.executable).with_name("pybabel")),
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
            str(target),
        ]
        listing.write_text("")
        subprocess.run(
            [*args, *files] if files else [*args, str(listing.parent)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )


def update() -> None:
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    for catalogue in catalogues():
        pot = catalogue / "messages.pot"
        extract(catalogue, pot)
        for lang in LANGS:
            po = catalogue / lang / "LC_MESSAGES" / "messages.po"
            verb = ["update", "--no-fuzzy-matching"] if po.exists() else ["init"]
            subprocess.run(
                [pybabel, *verb, "-i", str(pot), "-d", str(catalogue), "-l", lang],
                check=True,
                capture_output=True,
            )


def compile_all() -> None:
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    for catalogue in catalogues():
        for lang in LANGS:
            if (catalogue / lang / "LC_MESSAGES" / "messages.po").exists():
                subprocess.run(
                    [pybabel, "compile", "-d", str(catalogue), "-l", lang],
                    check=True,
                    capture_output=True,
                )


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "update":
        update()
    elif action == "compile":
        compile_all()
    else:
        print("usage: python scripts/translations.py update|compile", file=sys.stderr)
        sys.exit(2)
