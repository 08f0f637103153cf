"""Is a page wholly in its language? What a person reads, checked in the browser.

:func:`visible_texts` collects what a reader meets: every visible text node, and
the ``aria-label``, ``title``, ``placeholder`` and ``alt`` attributes, with the
language the page declares for each (``lang`` of the closest element).
:func:`untranslated` reports:

- any text that is an English interface string (a msgid of the catalogues whose
  translation in that language differs from it) — for every language;
- for Arabic, any Latin letter at all, once data values (e-mail addresses, the
  proper names and codes the caller lists: the world's organizations, people,
  references) are set aside: Arabic text is Arabic script, digits and
  punctuation. Text inside an element marked with another ``lang`` (the language
  switch: "Français", "English") or with ``translate="no"`` (a value shown as
  it is) is exempt.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from typing import Any

from babel.messages.pofile import read_po

from tests.web.live import ROOT

VISIBLE_TEXTS = """() => {
  const out = [];
  const langOf = (el) => {
    const holder = el.closest('[lang]');
    return holder ? holder.getAttribute('lang') : null;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style, template, noscript')) continue;
    if (el.closest('[translate="no"]')) continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    out.push({text, lang: langOf(el), where: el.tagName.toLowerCase()});
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      const value = (el.getAttribute(name) || '').trim();
      const where = `${el.tagName.toLowerCase()}@${name}`;
      if (value) out.push({text: value, lang: langOf(el), where});
    }
  }
  for (const el of document.querySelectorAll('input[type=submit], input[type=button]')) {
    if (el.value) out.push({text: el.value, lang: langOf(el), where: 'input@value'});
  }
  out.push({text: document.title, lang: document.documentElement.lang, where: 'title'});
  return out;
}"""

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# Proper names that stay as they are in every language.
PROPER_NAMES = ("Jessr",)


def _translations_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "translations", ROOT / "scripts" / "translations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def english_strings(lang: str) -> frozenset[str]:
    """Every msgid of the interface whose ``lang`` translation is not the msgid itself,
    placeholders (``%(name)s``) cut out."""
    found: set[str] = set()
    for directory in _translations_module().catalogues():
        po = directory / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in ids:
                if msgid in strings or msgid in PROPER_NAMES:
                    continue  # the same word in both languages (a name, "Date")
                for part in re.split(r"%\(\w+\)[sdf]|%[sdf]", msgid):
                    part = part.strip(" .,:;·-")
                    if part:
                        found.add(" ".join(part.split()))
    return frozenset(found)


def visible_texts(page: Any) -> list[dict[str, Any]]:
    """What a reader of ``page`` meets (see the module's docstring)."""
    return page.evaluate(VISIBLE_TEXTS)


def _contains(text: str, phrase: str) -> bool:
    if text == phrase:
        return True
    if len(phrase.split()) < 2:  # a single word: only a whole text counts
        return False
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def untranslated(items: list[dict[str, Any]], lang: str, names: tuple[str, ...] = ()) -> list[str]:
    """Texts of a page in ``lang`` that are left in English (see the module docstring)."""
    english = english_strings(lang) if lang != "en" else frozenset()
    problems = []
    for item in items:
        text = " ".join(str(item["text"]).split())
        declared = (item.get("lang") or lang).split("-")[0]
        if declared != lang:
            continue  # marked as another language on purpose
        found = [phrase for phrase in english if _contains(text, phrase)]
        if found:
            problems.append(f"{item['where']}: {text!r} is English ({found[0]!r})")
            continue
        if lang == "ar":
            rest = EMAIL.sub(" ", text)
            for name in (*PROPER_NAMES, *names):
                rest = rest.replace(name, " ")
            if LATIN.search(rest):
                problems.append(f"{item['where']}: {text!r} has Latin letters in Arabic")
    return problems
