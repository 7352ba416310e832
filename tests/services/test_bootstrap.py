"""The first start of an empty database: the admin's password is printed once where it cannot be missed, and
the console says that the demo company is being loaded (instead of going silent for several seconds)."""

from __future__ import annotations

import dataclasses
import re

from server import bootstrap as boot
from server.auth import verify_password
from server.models import User


async def test_first_start_prints_the_generated_admin_password_framed_once(db, settings, capsys, monkeypatch):
    loaded: list[str] = []

    async def seed_demo():  # the demo loader itself is tested in tests/e2e/test_cli.py; here only the console
        loaded.append(capsys.readouterr().out)
        return True

    monkeypatch.setattr("server.demo.seed_demo", seed_demo)
    quiet = dataclasses.replace(settings, admin_password=None, demo=True)
    await boot.bootstrap(quiet)

    out = loaded[0] + capsys.readouterr().out
    framed = re.search(r"={20,}\n(.*?)\n={20,}", out, re.S)
    assert framed, out
    password = re.search(r"password: (\S+)", framed.group(1)).group(1)
    admin = await User.get(username=settings.admin_username)
    assert verify_password(admin.password_hash, password)
    # The announcement came before the (slow) demo loader ran, and its end is said too.
    assert "Loading the demo company" in loaded[0]
    assert "Demo company loaded" in out.split("Loading the demo company")[1]

    await boot.bootstrap(quiet)  # a second start: nothing printed, nothing loaded again
    assert capsys.readouterr().out == "" and len(loaded) == 1


async def test_a_chosen_admin_password_is_never_printed(db, settings, capsys):
    await boot.bootstrap(dataclasses.replace(settings, admin_password="a-chosen-pass-42", demo=False))
    out = capsys.readouterr().out
    assert "a-chosen-pass-42" not in out and "password:" not in out
    assert verify_password((await User.get(username=settings.admin_username)).password_hash, "a-chosen-pass-42")
