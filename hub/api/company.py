"""The company itself: name, time zone and the rules supervisors tune."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, principal, reply, runtime
from schemas.directory import Company
from schemas.rest import CompanyUpdate


async def get_company(request: Request) -> Response:
    return reply(await runtime(request).directory.company(principal(request)))


async def update_company(request: Request, change: CompanyUpdate) -> Response:
    return reply(await runtime(request).directory.update_company(principal(request), change))


ROUTES = [
    ApiRoute("GET", "/api/company", get_company, "The token's company and its settings", response=Company),
    ApiRoute(
        "PATCH",
        "/api/company",
        update_company,
        "Change name, time zone or settings (owner)",
        request=CompanyUpdate,
        response=Company,
        publishes=True,
    ),
]
