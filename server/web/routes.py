"""The pages' explicit route table. Every endpoint goes through `view()`: viewer, CSRF on POST, errors."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from server.web import account, admin, home
from server.web.core import view


def web_routes() -> list[Any]:
    return [
        Route("/", view(home.home), methods=["GET"]),
        Route("/login", view(account.login_page, login=False), methods=["GET"]),
        Route("/login", view(account.login_submit, login=False), methods=["POST"]),
        Route("/logout", view(account.logout, login=False), methods=["POST"]),
        Route("/locale", view(account.switch_locale, login=False), methods=["POST"]),
        # organization (ADMIN, HR)
        Route("/admin", view(admin.admin_index), methods=["GET"]),
        Route("/admin/positions", view(admin.positions_page), methods=["GET"]),
        Route("/admin/positions", view(admin.position_save), methods=["POST"]),
        Route("/admin/positions/new", view(admin.position_edit), methods=["GET"]),
        Route("/admin/positions/{code}", view(admin.position_edit), methods=["GET"]),
        Route("/admin/employees", view(admin.employees_page), methods=["GET"]),
        Route("/admin/employees", view(admin.employee_create), methods=["POST"]),
        Route("/admin/{kind:str}", view(admin.codes_page), methods=["GET"]),
        Route("/admin/{kind:str}", view(admin.codes_save), methods=["POST"]),
    ]
