"""The dashboard: a period's call and chat figures for owners and managers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_text, query_time, reply, runtime
from schemas.dashboard import DashboardFigures


async def dashboard(request: Request) -> Response:
    hub = runtime(request)
    actor = principal(request)
    company = await hub.directory.company(actor)
    start, end = hub.dashboard.bounds(
        company.timezone,
        query_text(request, "period") or "week",
        query_time(request, "from"),
        query_time(request, "to"),
    )
    return reply(await hub.dashboard.figures(actor, company.timezone, start, end))


ROUTES = [
    ApiRoute(
        "GET",
        "/api/dashboard",
        dashboard,
        "The dashboard (owners and managers): for the period, calls (totals, per day by outcome and per hour of "
        "day in the company's time zone, per member and per extension, missed calls by follow-up state) and chat "
        "(new threads, messages in and out, first-response and resolution times per agent as nearest-rank median "
        "and p90, threads open and queued now). Period: this week (Monday 00:00 to next Monday) or this month in "
        "the company's time zone, or from/to (at most 366 days); computed by MongoDB aggregation",
        response=DashboardFigures,
        query=(
            QueryParam(
                "period",
                "string",
                "Without `from`: this week or this month, in the company's time zone",
                enum=("week", "month"),
                default="week",
            ),
            QueryParam("from", "time", "The period's start (instead of period)"),
            QueryParam("to", "time", "The period's end, excluded (default: the period's end, or now with `from`)"),
        ),
    ),
]
