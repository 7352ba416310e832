"""Company settings (FOUR_EYES_PAYOUT …): read by anyone logged in, changed by ADMIN only."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.types.common import tr, viewer
from server.services import company as company_service


@strawberry.type(description="One company-wide setting.")
class CompanySetting:
    key: str
    value: JSON
    description: str


@strawberry.type
class CompanyQuery:
    @strawberry.field(description="Every company setting with its current value (the default when never set).")
    async def company_settings(self, info: Info) -> list[CompanySetting]:
        rows = await company_service.list_settings(viewer(info))
        return [CompanySetting(key=d.key, value=v, description=tr(info, d.description) or "") for d, v in rows]


@strawberry.type
class CompanyMutation:
    @strawberry.mutation(description="Change a company setting (ADMIN only; audited with before and after). "
                                     "FOUR_EYES_PAYOUT takes true or false.")
    async def set_company_setting(self, info: Info, key: str, value: JSON) -> CompanySetting:
        stored = await company_service.set_setting(viewer(info), key, value)
        definition = company_service.DEFINITIONS[key.strip()]
        return CompanySetting(key=definition.key, value=stored, description=tr(info, definition.description) or "")
