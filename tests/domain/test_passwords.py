"""The password policy, as a pure function (table-driven)."""

from __future__ import annotations

import re

import pytest

from server import i18n
from server.domain.passwords import MIN_LENGTH, check_password, common_passwords


@pytest.mark.parametrize(("password", "username", "problem"), [
    ("short-one", "zhang", "at least 10"),
    ("", "zhang", "at least 10"),
    ("zhangwei.li", "zhangwei.li", "not be the username"),
    ("ZhangWei.Li", "zhangwei.li", "not be the username"),
    ("1234567890", "zhang", "too common"),
    ("woaini1314", "zhang", "too common"),
    ("a123456789", "zhang", "too common"),
    ("Qwerty123", "zhang", "too common"),  # case does not make a common password rare
    ("PASSWORD123", "zhang", "too common"),
    ("zzzzzzzzzzzz", "zhang", "repeat one character"),
    ("x" * 300, "zhang", "at most 256"),
])
def test_refused(password, username, problem):
    problems = check_password(password, username)
    english = [i18n.render(p, "en") for p in problems]
    assert problems and any(problem in p for p in english), english
    # message ids: Chinese by default, English in the English catalog
    assert all(re.search(r"[\u4e00-\u9fff]", str(p)) for p in problems)
    assert not any(re.search(r"[\u4e00-\u9fff]", p) for p in english)


@pytest.mark.parametrize("password", ["黄河远上白云间-2026", "correct horse battery", "Xian-Bell-Tower-9"])
def test_accepted(password):
    assert check_password(password, "zhangwei") == []


def test_the_list_ships_with_the_package_and_holds_the_chinese_favourites():
    listed = common_passwords()
    assert 100 <= len(listed) <= 400
    for favourite in ("12345678", "123456789", "1234567890", "password", "qwerty123", "woaini1314",
                      "a123456789", "88888888", "11111111"):
        assert favourite in listed
    # every listed password of the minimum length or longer is refused as common
    assert all(check_password(p, "someone") for p in listed if len(p) >= MIN_LENGTH)
