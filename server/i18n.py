"""Languages of the pages: zh_CN is the source language (the msgids in the templates are Chinese),
English comes from locales/en/LC_MESSAGES/messages.po.

The .po files are compiled in memory at start (babel's read_po + write_mo), so a fresh clone works
without a compile step and no .mo file is committed.

Updating the catalog after changing templates (babel.cfg lists what is extracted):
    .venv/bin/pybabel extract -F babel.cfg -o locales/messages.pot --no-location --omit-header .
    .venv/bin/pybabel update -i locales/messages.pot -d locales -l en --no-fuzzy-matching
then fill in the empty msgstr entries (tests/web/test_i18n.py fails while one is missing).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from server.settings import ROOT

LOCALES_DIR = ROOT / "locales"
DEFAULT_LOCALE = "zh_CN"
# The locales a user may pick, with the value of <html lang>.
LOCALES = {"zh_CN": "zh-CN", "en": "en"}
DOMAIN = "messages"


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The gettext translations of a locale; the source language needs none."""
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return gettext.NullTranslations()
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def normalize(locale: str | None) -> str | None:
    """A known locale name, or None (accepts 'en', 'en-US', 'zh-CN', 'zh_CN')."""
    if not locale:
        return None
    value = locale.strip().replace("-", "_")
    if value in LOCALES:
        return value
    if value.lower().startswith("en"):
        return "en"
    if value.lower().startswith("zh"):
        return DEFAULT_LOCALE
    return None


def load_all() -> None:
    """Compile every catalog now: a broken .po stops start-up instead of the first English page."""
    for locale in LOCALES:
        translations(locale)
