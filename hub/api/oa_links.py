"""Zalo OA links: connect (owner), list without secrets, rename or route to a department, disconnect, relink."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, principal, reply, runtime
from schemas.rest import OaLink, OaLinkCreate, OaLinkList, OaLinkRelink, OaLinkUpdate


async def create(request: Request, new: OaLinkCreate) -> Response:
    link = await runtime(request).oa_links.create(principal(request), new)
    return reply(link, status=201)


async def list_links(request: Request) -> Response:
    links = await runtime(request).oa_links.list(principal(request))
    return reply(OaLinkList(oa_links=links))


async def update(request: Request, change: OaLinkUpdate) -> Response:
    return reply(await runtime(request).oa_links.update(principal(request), request.path_params["link_id"], change))


async def disconnect(request: Request) -> Response:
    return reply(await runtime(request).oa_links.disconnect(principal(request), request.path_params["link_id"]))


async def relink(request: Request, tokens: OaLinkRelink) -> Response:
    return reply(await runtime(request).oa_links.relink(principal(request), request.path_params["link_id"], tokens))


ROUTES = [
    ApiRoute(
        "POST",
        "/api/oa-links",
        create,
        "Link a Zalo Official Account (owner)",
        request=OaLinkCreate,
        response=OaLink,
        status=201,
    ),
    ApiRoute("GET", "/api/oa-links", list_links, "List OA links (never secrets or tokens)", response=OaLinkList),
    ApiRoute(
        "PATCH",
        "/api/oa-links/{link_id}",
        update,
        "Rename an OA link or route its chats to a department",
        request=OaLinkUpdate,
        response=OaLink,
    ),
    ApiRoute(
        "DELETE", "/api/oa-links/{link_id}", disconnect, "Disconnect an OA (tokens are forgotten)", response=OaLink
    ),
    ApiRoute(
        "POST",
        "/api/oa-links/{link_id}/relink",
        relink,
        "Reconnect an OA with fresh tokens",
        request=OaLinkRelink,
        response=OaLink,
    ),
]
