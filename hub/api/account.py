"""The caller's account: change its password (every other token of it stops working), list its companies,
switch to another company without logging in again, and the member's own alert preferences."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.auth import token_for
from hub.api.routing import ApiRoute, principal, reply, runtime
from schemas.rest import (
    AccountCompanies,
    AlertPreferences,
    AlertPreferencesChange,
    CompanySwitch,
    PasswordChange,
    SessionToken,
)


async def change_password(request: Request, change: PasswordChange) -> Response:
    member = await runtime(request).directory.change_password(principal(request), change.current, change.new)
    return reply(SessionToken(token=await token_for(request, member), member=member))


async def companies(request: Request) -> Response:
    return reply(AccountCompanies(companies=await runtime(request).directory.account_companies(principal(request))))


async def switch(request: Request, choice: CompanySwitch) -> Response:
    member = await runtime(request).directory.switch_company(principal(request), choice.company_code)
    return reply(SessionToken(token=await token_for(request, member), member=member))


async def preferences(request: Request) -> Response:
    return reply(await runtime(request).directory.preferences(principal(request)))


async def change_preferences(request: Request, change: AlertPreferencesChange) -> Response:
    return reply(await runtime(request).directory.set_preferences(principal(request), change))


ROUTES = [
    ApiRoute(
        "POST",
        "/api/account/password",
        change_password,
        "Change the account's password (403 wrong_password); answers a fresh token. Every other token of the "
        "account, in every company, stops working and its consoles are closed (session.revoked)",
        request=PasswordChange,
        response=SessionToken,
        publishes=True,
        errors=(400, 401, 403, 422, 429),
    ),
    ApiRoute(
        "GET",
        "/api/account/companies",
        companies,
        "The companies of the caller's account, with code, name and role in each",
        response=AccountCompanies,
    ),
    ApiRoute(
        "POST",
        "/api/auth/switch",
        switch,
        "A token for another company of the caller's account (403 not_a_member)",
        request=CompanySwitch,
        response=SessionToken,
        errors=(400, 401, 403, 422),
    ),
    ApiRoute(
        "GET",
        "/api/account/preferences",
        preferences,
        "The caller's own alert preferences in this company: browser notifications (`notify`) and a sound",
        response=AlertPreferences,
    ),
    ApiRoute(
        "PATCH",
        "/api/account/preferences",
        change_preferences,
        "Turn the caller's own browser notifications (`notify`) or alert sound on or off; only the fields sent "
        "change (true or false, 422 otherwise)",
        request=AlertPreferencesChange,
        response=AlertPreferences,
        errors=(400, 401, 422),
    ),
]
