"""OA followers: the list with the product guide's filters, one follower, the counts, and a sync from Zalo
(owners and managers: rulebook Action.followers)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_bool, query_int, query_text, reply, runtime
from hub.errors import Unprocessable
from schemas.followers import Follower, FollowerList, FollowerStats, FollowerSyncStart

MAX_LIMIT = 200
MAX_DAYS = 3650


async def list_followers(request: Request) -> Response:
    limit = query_int(request, "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit is between 1 and {MAX_LIMIT}", "invalid_query")
    days = query_int(request, "interacted_days")
    if not 0 <= days <= MAX_DAYS:
        raise Unprocessable(f"interacted_days is between 1 and {MAX_DAYS} (0: any time)", "invalid_query")
    filters = {
        "oa_id": query_text(request, "oa_id"),
        "follower": query_bool(request, "follower"),
        "tag": query_text(request, "tag"),
        "interacted_days": days,
        "phone_known": query_bool(request, "phone_known"),
        "q": query_text(request, "q"),
    }
    page, next_before = await runtime(request).followers.list(
        principal(request), filters, limit, query_text(request, "before")
    )
    return reply(FollowerList(followers=[Follower.model_validate(f) for f in page], next_before=next_before))


async def get_follower(request: Request) -> Response:
    return reply(await runtime(request).followers.get(principal(request), request.path_params["follower_id"]))


async def stats(request: Request) -> Response:
    return reply(await runtime(request).followers.stats(principal(request), query_text(request, "oa_id")))


async def start_sync(request: Request, start: FollowerSyncStart) -> Response:
    job = await runtime(request).followers.start_sync(principal(request), request.path_params["link_id"], start.full)
    return reply(job, status=202)


ROUTES = [
    ApiRoute(
        "GET",
        "/api/followers",
        list_followers,
        "The OAs' followers, newest interaction first (owners and managers)",
        response=FollowerList,
        query=(
            QueryParam("oa_id", "string", "Only this OA's users"),
            QueryParam("follower", "boolean", "true: following the OA now (Interested); false: not"),
            QueryParam("tag", "string", "Users with this OA tag"),
            QueryParam(
                "interacted_days",
                "integer",
                "Users who interacted in the last N days (30: callable through ZCC)",
                default=0,
            ),
            QueryParam("phone_known", "boolean", "true: the user shared a phone number; false: not"),
            QueryParam("q", "string", "A name, a Zalo user id, or a phone number in any form"),
            QueryParam("limit", "integer", "Page size", default=50),
            QueryParam("before", "string", "A follower id (next_before of the previous page)"),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/followers/stats",
        stats,
        "Follower counts: stored, following, interacted in 30 days, phone known, and per OA Zalo's own counts",
        response=FollowerStats,
        query=(QueryParam("oa_id", "string", "Only this OA"),),
    ),
    ApiRoute(
        "GET",
        "/api/followers/{follower_id}",
        get_follower,
        "One follower: last interaction, Interested or not, shared address and phone, tags",
        response=Follower,
    ),
    ApiRoute(
        "POST",
        "/api/oa-links/{link_id}/followers/sync",
        start_sync,
        "Sync the OA's followers from Zalo on the job runner (one per OA at a time; the running one is answered)",
        request=FollowerSyncStart,
        status=202,
        errors=(400, 401, 403, 404, 409, 422),
    ),
]
