"""The English catalog covers every string the templates translate (extracted as babel.cfg says)."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from server import i18n
from server.settings import ROOT
from server.web.core import render_template

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extracted_messages() -> set[str]:
    """Every message babel.cfg extracts: the templates' `_()`/trans and the views' `page._()`."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options_map,
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_page_string_has_an_english_entry():
    messages = _extracted_messages()
    assert len(messages) > 50  # the extraction really found the templates' strings
    assert "请输入整数" in messages  # and the views' own messages
    with i18n.po_path("en").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"no English for: {missing}"
    fuzzy = sorted(m for m in messages if catalog.get(m).fuzzy)
    assert not fuzzy, f"fuzzy English entries: {fuzzy}"
    for message in messages:
        english = catalog.get(message).string
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(english)), message


def test_catalog_compiles_in_memory_and_translates():
    english = i18n.translations("en")
    assert english.gettext("我的借款") == "My loans"
    assert i18n.translations("zh_CN").gettext("我的借款") == "我的借款"


def test_templates_render_in_both_languages():
    context = {"status": 404, "message": None, "page": None, "viewer": None, "csrf_token": "t", "path": "/",
               "full_path": "/", "me": None, "unread": None}
    assert "未找到" in render_template("zh_CN", "error.html", context)
    assert "Not found" in render_template("en", "error.html", context)
