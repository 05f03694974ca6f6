"""ZCC call consents and ZNS template messages."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, principal, query_time, reply, runtime
from schemas.rest import ConsentRequest, ZnsSend


def _filters(request: Request, names: tuple[str, ...]) -> dict[str, Any]:
    q = request.query_params
    filters: dict[str, Any] = {name: q.get(name) for name in names if q.get(name)}
    if q.get("charged") in ("true", "false"):
        filters["charged"] = q.get("charged") == "true"
    filters["from"], filters["to"] = query_time(request, "from"), query_time(request, "to")
    return filters


async def request_consent(request: Request, ask: ConsentRequest) -> Response:
    consent = await runtime(request).consents.request(principal(request), ask.oa_id, ask.phone, ask.reason_code,
                                                      ask.call_type)
    return reply(consent, status=201)


async def list_consents(request: Request) -> Response:
    filters = _filters(request, ("oa_id", "phone", "reason_code", "requested_by", "customer_answer", "status",
                                 "call_type"))
    return reply({"consents": await runtime(request).consents.list(principal(request), filters)})


async def send_zns(request: Request, zns: ZnsSend) -> Response:
    message = await runtime(request).zns.send(principal(request), zns.oa_id, zns.phone, zns.template_id,
                                              zns.template_data, zns.tracking_id, zns.otp)
    return reply(message, status=201)


async def list_zns(request: Request) -> Response:
    filters = _filters(request, ("oa_id", "phone", "template_id", "status", "tracking_id", "msg_id"))
    return reply({"messages": await runtime(request).zns.list(principal(request), filters)})


async def get_zns(request: Request) -> Response:
    return reply(await runtime(request).zns.get(principal(request), request.path_params["message_id"]))


async def zns_stats(request: Request) -> Response:
    return reply(await runtime(request).zns.stats(principal(request), query_time(request, "from"), query_time(request, "to")))


ROUTES = [
    ApiRoute("POST", "/api/consents", request_consent,
             "Ask a customer for ZCC call consent (409 with can_resend_at when the resend rules forbid it)",
             request=ConsentRequest, status=201, publishes=True),
    ApiRoute("GET", "/api/consents", list_consents,
             "Consent requests (from, to, oa_id, phone, reason_code, requested_by, customer_answer, status, "
             "call_type, charged)"),
    ApiRoute("POST", "/api/zns/messages", send_zns, "Send one ZNS template message (refused 22:00-06:00)",
             request=ZnsSend, status=201, publishes=True),
    ApiRoute("GET", "/api/zns/messages", list_zns,
             "ZNS messages (from, to, oa_id, phone, template_id, status, tracking_id, msg_id, charged)"),
    ApiRoute("GET", "/api/zns/messages/{message_id}", get_zns, "One ZNS message with its delivery and review"),
    ApiRoute("GET", "/api/zns/stats", zns_stats,
             "Sent, charged, free, success, failed and total spend (default the last 7 days, at most 3 months)"),
]
