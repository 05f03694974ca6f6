"""GET /api/audit: the company's audit log, newest first (owners)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_int, query_text, query_time, reply, runtime
from schemas.rest import AuditList


async def audit_log(request: Request) -> Response:
    entries = await runtime(request).audit.list(
        principal(request),
        member_id=query_text(request, "member"),
        action=query_text(request, "action"),
        start=query_time(request, "from"),
        end=query_time(request, "to"),
        before=query_text(request, "before"),
        limit=query_int(request, "limit"),
    )
    return reply(entries)


ROUTES = [
    ApiRoute(
        "GET",
        "/api/audit",
        audit_log,
        "The audit log, newest first (owner): who changed members, roles, extensions, departments, OA links, "
        "the PBX secret, hotlines, wallboards, company settings, passwords; reassigned threads; logins",
        response=AuditList,
        query=(
            QueryParam("member", "string", "Entries of this member (who did it)"),
            QueryParam("action", "string", "A dotted action (member.role_changed) or its first part (member)"),
            QueryParam("from", "time", "Entries at or after this time"),
            QueryParam("to", "time", "Entries before this time"),
            QueryParam("before", "string", "The id of the last entry of the previous page (next_before)"),
            QueryParam("limit", "integer", "Entries at most, 1 to 500", default=100),
        ),
    ),
]
