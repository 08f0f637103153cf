"""Languages: Arabic (right to left), French, English.

The language is chosen by ``?lang=ar|fr|en`` (remembered in the session and, for
a signed-in account, on the account), else the account's, else the browser's
``Accept-Language``, else English. Babel formats numbers and dates with the
Tunisian conventions of each language (``ar_TN`` writes Latin digits, as
Tunisia does).

Translations: each blueprint keeps its own catalogue under
``web/<blueprint>/translations/`` and the shared strings (layout, errors) are in
``web/translations/``; Flask-Babel merges them. ``scripts/translations.py``
extracts, updates and compiles them; a test fails on any untranslated string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_login import current_user

LANGUAGES = ("ar", "fr", "en")
# The Babel locale of each language: Tunisian conventions where CLDR has them.
LOCALES = {"ar": "ar_TN", "fr": "fr_TN", "en": "en"}
NAMES = {"ar": "العربية", "fr": "Français", "en": "English"}
RTL = frozenset({"ar"})
WEB_DIR = Path(__file__).resolve().parent


def translation_directories() -> list[str]:
    """Every catalogue directory under ``web/`` (the shared one first)."""
    found = sorted(
        p for p in WEB_DIR.rglob("translations") if p.is_dir() and p != WEB_DIR / "translations"
    )
    return [str(WEB_DIR / "translations"), *(str(p) for p in found)]


def current_language() -> str:
    """The request's language code (``ar``, ``fr`` or ``en``)."""
    lang = g.get("lang")
    if lang is None:
        lang = g.lang = _choose()
    return lang


def _choose() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        g.lang_changed = True
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return remembered
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    return LOCALES[current_language()]


def template_globals() -> dict[str, Any]:
    lang = current_language()
    return {
        "lang": lang,
        "text_dir": "rtl" if lang in RTL else "ltr",
        "languages": [(code, NAMES[code]) for code in LANGUAGES],
    }


def init_app(app: Flask) -> None:
    from web.extensions import babel

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=";".join(translation_directories()),
    )
    app.context_processor(template_globals)
