"""ZNS journeys (hub.journeys): create one for a phone, send within it, the list and one journey's messages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_text, query_time, reply, runtime
from schemas.journeys import JourneyCreate, JourneySend

FILTERS = (
    QueryParam("oa_id", "string", "The OA's id"),
    QueryParam("phone", "string", "The customer's number, in any form (0912…, 84912…, +84912…)"),
    QueryParam("status", "string", "active, charged or expired", enum=("active", "charged", "expired")),
    QueryParam(
        "charged", "string", "true: only charged journeys; false: only those not charged", enum=("true", "false")
    ),
    QueryParam("from", "time", "Created at or after this time"),
    QueryParam("to", "time", "Created before this time"),
)


async def create_journey(request: Request, ask: JourneyCreate) -> Response:
    journey = await runtime(request).journeys.create(principal(request), ask.oa_id, ask.phone, ask.token_type)
    return reply(journey, status=201)


async def send_in_journey(request: Request, send: JourneySend) -> Response:
    message = await runtime(request).journeys.send(
        principal(request), request.path_params["journey_id"], send.template_id, send.template_data, send.tracking_id
    )
    return reply(message, status=201)


async def list_journeys(request: Request) -> Response:
    filters: dict[str, Any] = {name: query_text(request, name) for name in ("oa_id", "phone", "status")}
    charged = query_text(request, "charged")
    filters["charged"] = None if not charged else charged == "true"
    filters["from"], filters["to"] = query_time(request, "from"), query_time(request, "to")
    return reply({"journeys": await runtime(request).journeys.list(principal(request), filters)})


async def get_journey(request: Request) -> Response:
    return reply(await runtime(request).journeys.get(principal(request), request.path_params["journey_id"]))


ROUTES = [
    ApiRoute(
        "POST",
        "/api/zns/journeys",
        create_journey,
        "Ask Zalo for a journey token for one phone (owners, managers); token_type token_logistics_7 (default), "
        "token_logistics_30, token_coach_bus_7 or token_coach_bus_30",
        request=JourneyCreate,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/zns/journeys/{journey_id}/messages",
        send_in_journey,
        "Send one ZNS template within a journey, to its phone (refused 22:00-06:00; 409 once the journey ended)",
        request=JourneySend,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "GET",
        "/api/zns/journeys",
        list_journeys,
        "ZNS journeys, newest first (oa_id, phone, status, charged, from, to)",
        query=FILTERS,
    ),
    ApiRoute(
        "GET",
        "/api/zns/journeys/{journey_id}",
        get_journey,
        "One journey (its token shown by its ends only) and the messages sent within it",
    ),
]
