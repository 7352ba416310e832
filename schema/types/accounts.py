"""The viewer's account: logout, password change and ADMIN's reset, sessions and API tokens."""

from __future__ import annotations

import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from schema.types.common import viewer
from server import auth
from server.models import ApiToken as ApiTokenModel
from server.models import Session as SessionModel
from server.services import accounts as account_service


@strawberry.interface(description="A way the viewer's account is signed in: a browser session or a bearer token.")
class SignIn:
    model: strawberry.Private[Any]
    is_current: strawberry.Private[bool]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at

    @strawberry.field(description="Refreshed at most once a minute.")
    def last_used_at(self) -> datetime.datetime | None:
        return self.model.last_used_at

    @strawberry.field(description="SESSION_DAYS (sessions) or TOKEN_DAYS (tokens) after login.")
    def expires_at(self) -> datetime.datetime:
        return self.model.expires_at

    @strawberry.field
    def user_agent(self) -> str:
        return self.model.user_agent

    @strawberry.field
    def client_address(self) -> str:
        return self.model.client_address

    @strawberry.field(description="The session or token this request came with.")
    def current(self) -> bool:
        return self.is_current


@strawberry.type(description="A browser session of the viewer's account (the cookie itself is never shown).")
class UserSession(SignIn):
    model: strawberry.Private[SessionModel]


@strawberry.type(description="A bearer token of the viewer's account, from `login` (the token itself is never shown).")
class ApiTokenInfo(SignIn):
    model: strawberry.Private[ApiTokenModel]


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The viewer's live browser sessions.")
    async def my_sessions(self, info: Info) -> list[UserSession]:
        v = viewer(info)
        return [UserSession(model=r, is_current=r.id == v.session_id) for r in await account_service.my_sessions(v)]

    @strawberry.field(description="The viewer's live bearer tokens.")
    async def my_tokens(self, info: Info) -> list[ApiTokenInfo]:
        v = viewer(info)
        return [ApiTokenInfo(model=r, is_current=r.id == v.token_id) for r in await account_service.my_tokens(v)]


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Revoke the bearer token (or browser session) this request came with.")
    async def logout(self, info: Info) -> bool:
        return await account_service.logout(viewer(info))

    @strawberry.mutation(description="Revoke every session and token of the viewer's account, this one included.")
    async def logout_everywhere(self, info: Info) -> bool:
        await account_service.logout_everywhere(viewer(info))
        return True

    @strawberry.mutation(description="Revoke one of the viewer's own sessions.")
    async def revoke_session(self, info: Info, id: strawberry.ID) -> bool:
        await account_service.revoke_session(viewer(info), id)
        return True

    @strawberry.mutation(description="Revoke one of the viewer's own bearer tokens.")
    async def revoke_token(self, info: Info, id: strawberry.ID) -> bool:
        await account_service.revoke_token(viewer(info), id)
        return True

    @strawberry.mutation(description="Change the viewer's password. Every other session and every bearer token "
                                     "of the account is revoked; the session making the change stays.")
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        await account_service.change_password(viewer(info), current_password, new_password,
                                              auth.client_address(info.context.request))
        return True

    @strawberry.mutation(description="ADMIN only: set another account's password (give userId or employeeId). "
                                     "Every session and bearer token of that account is revoked.")
    async def reset_password(self, info: Info, new_password: str, user_id: strawberry.ID | None = None,
                             employee_id: strawberry.ID | None = None) -> bool:
        await account_service.reset_password(viewer(info), user_id, employee_id, new_password)
        return True
