"""The pages' explicit route table. Every endpoint goes through `view()`: viewer, CSRF on POST, errors."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from server.web import account, home
from server.web.core import view


def web_routes() -> list[Any]:
    return [
        Route("/", view(home.home), methods=["GET"]),
        Route("/login", view(account.login_page, login=False), methods=["GET"]),
        Route("/login", view(account.login_submit, login=False), methods=["POST"]),
        Route("/logout", view(account.logout, login=False), methods=["POST"]),
        Route("/locale", view(account.switch_locale, login=False), methods=["POST"]),
    ]
