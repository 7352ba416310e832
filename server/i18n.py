"""Languages of the pages: zh_CN is the source language (the msgids in the templates are Chinese),
English comes from locales/en/LC_MESSAGES/messages.po.

The .po files are compiled in memory at start (babel's read_po + write_mo), so a fresh clone works
without a compile step and no .mo file is committed.

Updating the catalog after changing templates (babel.cfg lists what is extracted):
    .venv/bin/pybabel extract -F babel.cfg -k _m -o locales/messages.pot --no-location --omit-header .
    .venv/bin/pybabel update -i locales/messages.pot -d locales -l en --no-fuzzy-matching
then fill in the empty msgstr entries (tests/web/test_i18n.py and tests/test_messages.py fail while one
is missing).

Messages of the server (server/domain/messages.py): `render(message, locale)` fills a message id's
translation with its parameters (Decimals as "10,000.00", nested messages, lists joined); the
GraphQL error formatter renders in the viewer's locale, stored messages are rendered at read time,
and `render_for_user` uses a recipient's stored choice outside a request.
"""

from __future__ import annotations

import gettext
import io
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from server.domain.messages import Message
from server.domain.money import fmt
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


# ---------------------------------------------------------------- messages (server/domain/messages.py)

_SEPARATOR = {"zh_CN": "；", "en": "; "}


def _param(value: Any, locale: str) -> str:
    if isinstance(value, Message):
        return render(value, locale)
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, (list, tuple)):
        return _SEPARATOR.get(locale, "; ").join(_param(v, locale) for v in value)
    return str(value)


def render(message: Message | str | None, locale: str | None = None) -> str:
    """A message in `locale` (zh_CN when unknown): the catalog's text with the parameters filled in."""
    if message is None:
        return ""
    if isinstance(message, str):
        return message
    locale = normalize(locale) or DEFAULT_LOCALE
    if message.literal:
        return message.msgid
    template = translations(locale).gettext(message.msgid)
    if not message.params:
        return template
    values = _Params({k: _param(v, locale) for k, v in message.params.items()})
    try:
        return template % values
    except (ValueError, TypeError):  # a broken catalog entry: the source text
        return message.msgid % values


class _Params(dict):
    """A placeholder without a value shows as "?" instead of failing the request that shows it."""

    def __missing__(self, key: str) -> str:
        return "?"


def render_stored(data: dict | None, fallback: str | None, locale: str | None) -> str:
    """A stored message (a JSON column) in `locale`; rows written before message ids keep their text."""
    if data:
        return render(Message.from_json(data), locale)
    return fallback or ""


async def render_for_user(user_id: int | None, message: Message | str, *, default: str | None = None) -> str:
    """For what reaches a person outside a request (notifications, e-mail): their stored language."""
    from server.models.auth import User

    user = await User.get_or_none(id=user_id) if user_id is not None else None
    return render(message, getattr(user, "locale", None) or default)


def accept_language(header: str | None) -> str | None:
    """`Accept-Language`: English when the first preferred language is English, else zh_CN; None if absent."""
    if not header or not header.strip():
        return None
    first = header.split(",")[0].split(";")[0].strip()
    return "en" if first.lower().startswith("en") else DEFAULT_LOCALE
