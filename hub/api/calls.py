"""Calls: history with the product's filters, live calls, statistics; hotlines, extensions, PBX secret,
wallboard tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import cast
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hub import call_customers, call_sheet, sheets
from hub.api.routing import (
    SHEET_QUERY,
    ApiRoute,
    QueryParam,
    principal,
    query_int,
    query_text,
    query_time,
    reply,
    runtime,
)
from hub.calls import CallFilter, today_start
from schemas.calls import CallList, CallRow, MissedCallList, MissedCallView
from schemas.rest import ExtensionCreate, HotlineCreate, MissedCallAssign, MissedCallHandled, WallboardTokenCreate


def _filter(request: Request) -> CallFilter:
    """The history's filters as the route declares them (CALL_FILTERS)."""
    return CallFilter(
        start=query_time(request, "from"),
        end=query_time(request, "to"),
        status=query_text(request, "status"),
        direction=query_text(request, "direction"),
        hotline=query_text(request, "hotline"),
        extension=query_text(request, "extension"),
        department=query_text(request, "department"),
        phone=query_text(request, "phone"),
    )


async def history(request: Request) -> Response:
    hub, actor = runtime(request), principal(request)
    calls = await hub.calls.history(
        actor, _filter(request), before=query_text(request, "before"), limit=query_int(request, "limit")
    )
    await call_customers.link(hub.threads, actor, calls.calls)
    return reply(calls)


async def export(request: Request) -> Response:
    """The history's filter as a sheet, streamed: same calls, same order, the console table's columns."""
    hub = runtime(request)
    actor = principal(request)
    company = await hub.directory.company(actor)
    departments = {d.id: d.name for d in await hub.directory.list_departments(actor)}
    lang = cast(sheets.Lang, query_text(request, "lang"))
    fmt = cast(sheets.SheetFormat, query_text(request, "format"))
    calls = hub.calls.each(actor, _filter(request))
    day = hub.clock.now().astimezone(ZoneInfo(company.timezone)).date().isoformat()
    return sheets.sheet_response(
        f"calls-{day}",
        fmt,
        call_sheet.HEADER[lang],
        call_sheet.rows(calls, lang, company.timezone, departments),
    )


async def live(request: Request) -> Response:
    hub, actor = runtime(request), principal(request)
    calls = await hub.calls.live(actor)
    await call_customers.link(hub.threads, actor, calls)
    return reply(CallList(calls=calls))


async def one(request: Request) -> Response:
    hub, actor = runtime(request), principal(request)
    call = await hub.calls.get(actor, request.path_params["call_id"])
    await call_customers.link(hub.threads, actor, [call])
    return reply(call)


async def stats(request: Request) -> Response:
    hub = runtime(request)
    actor = principal(request)
    company = await hub.directory.company(actor)
    now = hub.clock.now()
    period = query_text(request, "period")
    start, end = query_time(request, "from"), query_time(request, "to")
    if start is None:
        day = today_start(now, company.timezone)
        start = day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)
    end = end or now
    return reply(await hub.calls.stats(actor, start, end))


async def missed_calls(request: Request) -> Response:
    hub, actor = runtime(request), principal(request)
    found = await hub.missed_calls.list(
        actor,
        state=query_text(request, "state"),
        assignee=query_text(request, "assignee"),
        start=query_time(request, "from"),
        end=query_time(request, "to"),
        before=query_text(request, "before"),
        limit=query_int(request, "limit"),
    )
    await call_customers.link(hub.threads, actor, found["missed_calls"])
    return reply(MissedCallList.model_validate(found))


async def missed_call_handled(request: Request, body: MissedCallHandled) -> Response:
    return reply(
        await runtime(request).missed_calls.mark_handled(principal(request), request.path_params["call_id"], body.note)
    )


async def missed_call_assignee(request: Request, body: MissedCallAssign) -> Response:
    return reply(
        await runtime(request).missed_calls.assign(principal(request), request.path_params["call_id"], body.member_id)
    )


async def rotate_secret(request: Request) -> Response:
    secret = await runtime(request).telephony.rotate_pbx_secret(principal(request))
    return reply(
        {"secret": secret, "header": 'X-Hub-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>'}, status=201
    )


async def hotlines(request: Request) -> Response:
    return reply({"hotlines": await runtime(request).telephony.hotlines(principal(request))})


async def add_hotline(request: Request, hotline: HotlineCreate) -> Response:
    return reply(
        await runtime(request).telephony.add_hotline(
            principal(request), hotline.number, hotline.name, hotline.department_id
        ),
        status=201,
    )


async def remove_hotline(request: Request) -> Response:
    await runtime(request).telephony.remove_hotline(principal(request), request.path_params["hotline_id"])
    return Response(status_code=204)


async def extensions(request: Request) -> Response:
    return reply({"extensions": await runtime(request).telephony.extensions(principal(request))})


async def add_extension(request: Request, extension: ExtensionCreate) -> Response:
    return reply(
        await runtime(request).telephony.add_extension(principal(request), extension.number, extension.name), status=201
    )


async def remove_extension(request: Request) -> Response:
    await runtime(request).telephony.remove_extension(principal(request), request.path_params["number"])
    return Response(status_code=204)


async def issue_wallboard(request: Request, wallboard: WallboardTokenCreate) -> Response:
    return reply(await runtime(request).wallboards.issue(principal(request), wallboard.name), status=201)


async def list_wallboards(request: Request) -> Response:
    return reply({"wallboard_tokens": await runtime(request).wallboards.list(principal(request))})


async def revoke_wallboard(request: Request) -> Response:
    await runtime(request).wallboards.revoke(principal(request), request.path_params["token_id"])
    return Response(status_code=204)


# The history's filters, read by _filter: the same for a page of the history and for its export.
CALL_FILTERS = (
    QueryParam("from", "time", "Calls that started at or after this time"),
    QueryParam("to", "time", "Calls that started before this time"),
    QueryParam("status", "string", "The call's outcome", enum=("answered", "missed", "short_abandoned", "failed")),
    QueryParam("direction", "string", "inbound, outbound or internal"),
    QueryParam("hotline", "string", "A hotline's number"),
    QueryParam("extension", "string", "An extension's number that the call rang or reached"),
    QueryParam("department", "string", "A department's id: calls that rang its members"),
    QueryParam("phone", "string", "The customer's number as caller or callee, in any form (0912…, 84912…, +84912…)"),
)

ROUTES = [
    ApiRoute(
        "GET",
        "/api/calls",
        history,
        "Call history (from, to, status answered|missed|short_abandoned|failed, direction, hotline, "
        "extension, department, phone), newest first, a page of `limit` at a time (`before`: the previous page's "
        "next_before); users see the calls that rang them. A call whose outside number a Zalo customer shared "
        "in a thread the reader may see carries that thread's id (thread_id)",
        response=CallList,
        query=(
            *CALL_FILTERS,
            QueryParam("before", "string", "The id of the last call of the previous page (its next_before)"),
            QueryParam("limit", "integer", "Calls at most, 1 to 500", default=100),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/calls/export",
        export,
        "The call history's filter as an Excel (.xlsx) or CSV file, streamed: the console table's columns, "
        "times in the company's time zone, words in `lang`; the same calls as the history shows the reader",
        query=(
            *SHEET_QUERY,
            *CALL_FILTERS,
        ),
    ),
    ApiRoute(
        "GET",
        "/api/calls/live",
        live,
        "Calls ringing, queued, answered or on hold now (thread_id as in the history)",
        response=CallList,
    ),
    ApiRoute(
        "GET",
        "/api/calls/{call_id}",
        one,
        "One call record with its legs, and its customer's thread (thread_id) when the reader may see it",
        response=CallRow,
    ),
    ApiRoute(
        "GET",
        "/api/stats/calls",
        stats,
        "Totals and per-extension calls, answered, missed, failed, talk time (period=week|month or from/to)",
        query=(
            QueryParam(
                "period",
                "string",
                "Without `from`: week counts from this Monday, any other value "
                "from the first of this month (the company's time zone)",
                default="week",
            ),
            QueryParam("from", "time", "Calls that started at or after this time (instead of period)"),
            QueryParam("to", "time", "Calls that started before this time (default now)"),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/missed-calls",
        missed_calls,
        "Missed calls as work, newest first, with counts by state; owners and managers see all, a user the ones "
        "that rang them or are assigned to them; thread_id: the caller's Zalo thread, when the reader may see it",
        response=MissedCallList,
        query=(
            QueryParam("state", "string", "The follow-up's state", enum=("open", "called_back", "handled")),
            QueryParam("assignee", "string", "A member's id, or none for the unassigned"),
            QueryParam("from", "time", "Missed calls that ended at or after this time"),
            QueryParam("to", "time", "Missed calls that ended before this time"),
            QueryParam("before", "string", "The id of the previous page's last missed call"),
            QueryParam("limit", "integer", "Missed calls at most, 1 to 500", default=100),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/missed-calls/{call_id}/handled",
        missed_call_handled,
        "Mark an open missed call handled, saying what was done (owners, managers, its assignee, a member it rang)",
        request=MissedCallHandled,
        response=MissedCallView,
        publishes=True,
    ),
    ApiRoute(
        "PUT",
        "/api/missed-calls/{call_id}/assignee",
        missed_call_assignee,
        "Assign an open missed call to a member, or to nobody (owners, managers)",
        request=MissedCallAssign,
        response=MissedCallView,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/pbx/secret",
        rotate_secret,
        "Create or rotate the PBX webhook secret (owner); shown once",
        status=201,
    ),
    ApiRoute("GET", "/api/hotlines", hotlines, "The company's hotlines"),
    ApiRoute(
        "POST", "/api/hotlines", add_hotline, "Add a hotline (owners, managers)", request=HotlineCreate, status=201
    ),
    ApiRoute("DELETE", "/api/hotlines/{hotline_id}", remove_hotline, "Remove a hotline", status=204),
    ApiRoute("GET", "/api/extensions", extensions, "The company's extensions and who holds each"),
    ApiRoute(
        "POST",
        "/api/extensions",
        add_extension,
        "Add an extension (owners, managers)",
        request=ExtensionCreate,
        status=201,
    ),
    ApiRoute("DELETE", "/api/extensions/{number}", remove_extension, "Remove a free extension", status=204),
    ApiRoute(
        "POST",
        "/api/wallboard-tokens",
        issue_wallboard,
        "Issue a long-lived wallboard display token (owners, managers)",
        request=WallboardTokenCreate,
        status=201,
    ),
    ApiRoute("GET", "/api/wallboard-tokens", list_wallboards, "Wallboard tokens in use"),
    ApiRoute(
        "DELETE",
        "/api/wallboard-tokens/{token_id}",
        revoke_wallboard,
        "Revoke a wallboard token",
        status=204,
        publishes=True,
    ),
]
