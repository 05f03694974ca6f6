"""Zalo OA links: connect (owner), list without secrets, rename or route to a department, disconnect, relink."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, body, principal, reply, runtime
from schemas.rest import OaLink, OaLinkCreate, OaLinkList, OaLinkRelink, OaLinkUpdate


async def create(request: Request) -> Response:
    actor = principal(request)
    link = await runtime(request).oa_links.create(actor, await body(request, OaLinkCreate))
    return reply(link, status=201)


async def list_links(request: Request) -> Response:
    links = await runtime(request).oa_links.list(principal(request))
    return reply(OaLinkList(oa_links=links))


async def update(request: Request) -> Response:
    actor = principal(request)
    req = await body(request, OaLinkUpdate)
    return reply(await runtime(request).oa_links.update(actor, request.path_params["link_id"], req))


async def disconnect(request: Request) -> Response:
    return reply(await runtime(request).oa_links.disconnect(principal(request), request.path_params["link_id"]))


async def relink(request: Request) -> Response:
    actor = principal(request)
    req = await body(request, OaLinkRelink)
    return reply(await runtime(request).oa_links.relink(actor, request.path_params["link_id"], req))


ROUTES = [
    ApiRoute("POST", "/api/oa-links", create, "Link a Zalo Official Account (owner)", request=OaLinkCreate,
             response=OaLink, status=201),
    ApiRoute("GET", "/api/oa-links", list_links, "List OA links (never secrets or tokens)", response=OaLinkList),
    ApiRoute("PATCH", "/api/oa-links/{link_id}", update, "Rename an OA link or route its chats to a department",
             request=OaLinkUpdate, response=OaLink),
    ApiRoute("DELETE", "/api/oa-links/{link_id}", disconnect, "Disconnect an OA (tokens are forgotten)",
             response=OaLink),
    ApiRoute("POST", "/api/oa-links/{link_id}/relink", relink, "Reconnect an OA with fresh tokens",
             request=OaLinkRelink, response=OaLink),
]
