"""POST /api/auth/login: phone and password in, a token for one company out (or the companies to choose from)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, reply, runtime
from hub.auth import issue_token
from schemas.directory import Member
from schemas.rest import LoginRequest, LoginResponse


async def login(request: Request, credentials: LoginRequest) -> Response:
    hub = runtime(request)
    result = await hub.directory.login(credentials.phone, credentials.password, credentials.company_code)
    if not isinstance(result, Member):
        return reply(LoginResponse(companies=result))
    return reply(LoginResponse(token=await token_for(request, result), member=result))


async def token_for(request: Request, member: Member) -> str:
    """A console token for `member`, in its account's current token generation."""
    hub = runtime(request)
    return issue_token(
        hub.jwt_secret, await hub.directory.principal_for(member), hub.clock.now(), hub.settings.token_ttl_s
    )


ROUTES = [
    ApiRoute(
        "POST",
        "/api/auth/login",
        login,
        "Log in with phone and password; choose a company when several",
        request=LoginRequest,
        response=LoginResponse,
        public=True,
        errors=(400, 401, 422, 429),
    ),
]
