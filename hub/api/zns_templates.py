"""ZNS templates for the send dialog's picker: the OA's list and one template's parameters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_text, reply, runtime

OA = QueryParam("oa_id", "string", "The OA's id (one of the company's active OA links)")


async def list_templates(request: Request) -> Response:
    return reply(await runtime(request).zns_templates.list(principal(request), query_text(request, "oa_id")))


async def get_template(request: Request) -> Response:
    return reply(
        await runtime(request).zns_templates.get(
            principal(request), query_text(request, "oa_id"), request.path_params["template_id"]
        )
    )


ROUTES = [
    ApiRoute(
        "GET",
        "/api/zns/templates",
        list_templates,
        "The OA's ZNS templates, fetched from Zalo now (on Zalo's failure the ones kept, with zalo_error)",
        query=(OA,),
        errors=(400, 401, 403, 404),
    ),
    ApiRoute(
        "GET",
        "/api/zns/templates/{template_id}",
        get_template,
        "One ZNS template with its listParams (name, require, type, maxLength, minLength, acceptNull), fetched "
        "from Zalo now",
        query=(OA,),
        errors=(400, 401, 403, 404, 502),
    ),
]
