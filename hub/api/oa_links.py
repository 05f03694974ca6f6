"""Zalo OA links: connect (owner; pasted tokens or Zalo's OAuth permission flow), list without secrets,
re-read the OA from Zalo, rename or route to a department, disconnect, relink."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_text, reply, runtime
from hub.oa_links import CALLBACK_PATH
from schemas.rest import (
    OaLink,
    OaLinkCreate,
    OaLinkList,
    OaLinkRelink,
    OaLinkUpdate,
    OaOAuthRelink,
    OaOAuthStart,
    OaOAuthUrl,
)

# Where the callback sends the owner's browser back to: the console's OA links screen.
CONSOLE_OA_SCREEN = "/console{query}#admin/oa"


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def create(request: Request, new: OaLinkCreate) -> Response:
    link = await runtime(request).oa_links.create(principal(request), new, _origin(request))
    return reply(link, status=201)


async def list_links(request: Request) -> Response:
    links = await runtime(request).oa_links.list(principal(request))
    return reply(OaLinkList(oa_links=links))


async def update(request: Request, change: OaLinkUpdate) -> Response:
    return reply(await runtime(request).oa_links.update(principal(request), request.path_params["link_id"], change))


async def disconnect(request: Request) -> Response:
    return reply(await runtime(request).oa_links.disconnect(principal(request), request.path_params["link_id"]))


async def relink(request: Request, tokens: OaLinkRelink) -> Response:
    links = runtime(request).oa_links
    return reply(await links.relink(principal(request), request.path_params["link_id"], tokens, _origin(request)))


async def refresh(request: Request) -> Response:
    return reply(await runtime(request).oa_links.refresh_info(principal(request), request.path_params["link_id"]))


async def oauth_start(request: Request, start: OaOAuthStart) -> Response:
    url = await runtime(request).oa_links.oauth_start(principal(request), start, _origin(request))
    return reply(OaOAuthUrl(url=url))


async def oauth_relink(request: Request, start: OaOAuthRelink) -> Response:
    links = runtime(request).oa_links
    url = await links.oauth_relink(principal(request), request.path_params["link_id"], start, _origin(request))
    return reply(OaOAuthUrl(url=url))


async def oauth_callback(request: Request) -> Response:
    """Zalo sends the owner's browser here; it goes on to the console with the outcome in its query."""
    outcome = await runtime(request).oa_links.oauth_callback(
        query_text(request, "code"), query_text(request, "oa_id"), query_text(request, "state")
    )
    if outcome.ok:
        query = {"oa_link": "linked", "link_id": outcome.link_id}
    else:
        query = {"oa_link": "failed", "reason": outcome.reason}
        if outcome.zalo_error is not None:
            query["zalo_error"] = str(outcome.zalo_error)
        if outcome.detail:
            query["detail"] = outcome.detail[:300]
    return RedirectResponse(CONSOLE_OA_SCREEN.format(query="?" + urlencode(query)), status_code=303)


ROUTES = [
    ApiRoute(
        "POST",
        "/api/oa-links",
        create,
        "Link a Zalo Official Account with pasted tokens (owner)",
        request=OaLinkCreate,
        response=OaLink,
        status=201,
    ),
    ApiRoute(
        "GET",
        "/api/oa-links",
        list_links,
        "List OA links with what Zalo says of each OA (never secrets or tokens)",
        response=OaLinkList,
    ),
    ApiRoute(
        "PATCH",
        "/api/oa-links/{link_id}",
        update,
        "Rename an OA link, route its chats to a department, or set its webhook key",
        request=OaLinkUpdate,
        response=OaLink,
        publishes=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/oa-links/{link_id}",
        disconnect,
        "Disconnect an OA (tokens are forgotten)",
        response=OaLink,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/oa-links/{link_id}/relink",
        relink,
        "Reconnect an OA with fresh pasted tokens",
        request=OaLinkRelink,
        response=OaLink,
    ),
    ApiRoute(
        "POST",
        "/api/oa-links/{link_id}/refresh",
        refresh,
        "Read the OA's name, logo, followers, package and allowances from Zalo again",
        response=OaLink,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/oa-links/oauth/start",
        oauth_start,
        "Link with Zalo (owner): the permission page to open; Zalo returns the browser to the callback",
        request=OaOAuthStart,
        response=OaOAuthUrl,
    ),
    ApiRoute(
        "POST",
        "/api/oa-links/{link_id}/oauth/start",
        oauth_relink,
        "Relink an OA through Zalo's permission page (owner)",
        request=OaOAuthRelink,
        response=OaOAuthUrl,
    ),
    ApiRoute(
        "GET",
        CALLBACK_PATH,
        oauth_callback,
        "Zalo's OAuth callback: exchanges the code, stores the link, redirects to the console "
        "(?oa_link=linked&link_id= or ?oa_link=failed&reason=)",
        public=True,
        status=303,
        errors=(),
        query=(
            QueryParam("code", "string", "the authorization code (10 minutes, single use)"),
            QueryParam("oa_id", "string", "the OA the admin allowed"),
            QueryParam("state", "string", "the state the hub issued with the permission URL"),
        ),
    ),
]
