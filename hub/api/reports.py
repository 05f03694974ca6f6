"""Outreach reports (ZNS and ZCC) and the ZNS service reviews list (hub.outreach_reports)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_text, query_time, reply, runtime

PERIOD = (
    QueryParam("from", "time", "From this time (default: 30 days before `to`); at most 3 months"),
    QueryParam("to", "time", "Until this time (default: now)"),
)
OA = QueryParam("oa_id", "string", "Only this OA's")


async def zns_report(request: Request) -> Response:
    report = await runtime(request).outreach_reports.zns(
        principal(request),
        query_time(request, "from"),
        query_time(request, "to"),
        query_text(request, "oa_id"),
        query_text(request, "template_id"),
        query_text(request, "kind"),
    )
    return reply(report)


async def zcc_report(request: Request) -> Response:
    report = await runtime(request).outreach_reports.zcc(
        principal(request), query_time(request, "from"), query_time(request, "to"), query_text(request, "oa_id")
    )
    return reply(report)


REVIEW_FILTERS = (
    QueryParam("template_id", "string", "The template's id"),
    QueryParam("phone", "string", "The customer's number, in any form"),
    QueryParam("msg_id", "string", "Zalo's message id"),
    OA,
)


async def zns_reviews(request: Request) -> Response:
    filters: dict[str, Any] = {param.name: query_text(request, param.name) for param in REVIEW_FILTERS}
    filters["from"], filters["to"] = query_time(request, "from"), query_time(request, "to")
    return reply({"reviews": await runtime(request).outreach_reports.reviews(principal(request), filters)})


ROUTES = [
    ApiRoute(
        "GET",
        "/api/reports/zns",
        zns_report,
        "ZNS report (owners, managers): totals, spend, per day, per template, per kind of send",
        query=(
            *PERIOD,
            OA,
            QueryParam("template_id", "string", "Only this template's"),
            QueryParam("kind", "string", "Only this kind of send", enum=("phone", "journey", "uid")),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/reports/zcc",
        zcc_report,
        "ZCC report (owners, managers): requests sent, charged, failed, per day, per reason, per customer answer",
        query=(*PERIOD, OA),
    ),
    ApiRoute(
        "GET",
        "/api/zns/reviews",
        zns_reviews,
        "ZNS service reviews (owners, managers), newest first: stars, content, note, time",
        query=(
            *REVIEW_FILTERS,
            QueryParam("from", "time", "Reviewed at or after"),
            QueryParam("to", "time", "Reviewed before"),
        ),
    ),
]
