"""The API's own description: /api/openapi.json passes an outside validator and names every path and query
parameter the routes read, and a handler can read only the query parameters its route declares."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.api.routing import ApiRoute, QueryParam, query_int, query_text
from hub.app import API_ROUTES
from tests.conftest import Company
from tests.servers import HubProcess


async def _document(hub: HubProcess, http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get(f"{hub.url}/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _parameters(document: dict[str, Any], route: ApiRoute) -> dict[tuple[str, str], dict[str, Any]]:
    operation = document["paths"][route.path][route.method.lower()]
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


async def test_the_openapi_document_passes_an_outside_validator(hub: HubProcess, http: httpx.AsyncClient) -> None:
    validate(await _document(hub, http))


async def test_every_path_and_query_parameter_of_every_route_is_in_the_document(
    hub: HubProcess, http: httpx.AsyncClient
) -> None:
    document = await _document(hub, http)
    assert sum(len(operations) for operations in document["paths"].values()) == len(API_ROUTES)
    for route in API_ROUTES:
        parameters = _parameters(document, route)
        for name in route.path_params:
            assert parameters[("path", name)]["required"] is True, (route.name, name)
        for param in route.query:
            documented = parameters.get(("query", param.name))
            assert documented is not None, (route.name, param.name)
            assert documented["schema"].get("enum", []) == list(param.enum), (route.name, param.name)
        assert len(parameters) == len(route.path_params) + len(route.query), route.name


@pytest.mark.parametrize(
    "path, names",
    [
        ("/api/threads", {"oa", "assignee", "label", "unread", "text", "status", "before", "phone", "after", "limit"}),
        ("/api/threads/{thread_id}/messages", {"before", "limit"}),
        (
            "/api/calls",
            {"from", "to", "status", "direction", "hotline", "extension", "department", "phone", "before", "limit"},
        ),
        ("/api/stats/calls", {"period", "from", "to"}),
        ("/api/dashboard", {"period", "from", "to"}),
        (
            "/api/consents",
            {
                "from",
                "to",
                "oa_id",
                "phone",
                "reason_code",
                "requested_by",
                "customer_answer",
                "status",
                "call_type",
                "charged",
            },
        ),
        (
            "/api/zns/messages",
            {"from", "to", "oa_id", "phone", "template_id", "status", "tracking_id", "msg_id", "charged"}
            | {"campaign_id"},
        ),
        ("/api/zns/stats", {"from", "to"}),
    ],
)
async def test_every_list_filter_is_in_the_document(
    hub: HubProcess, http: httpx.AsyncClient, path: str, names: set[str]
) -> None:
    operation = (await _document(hub, http))["paths"][path]["get"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == names


async def test_a_call_status_the_document_does_not_list_is_refused(company: Company) -> None:
    response = await company.http.get(f"{company.url}/api/calls", headers=company.owner.auth, params={"status": "lost"})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_query",
        "message": "status is one of answered, missed, short_abandoned, failed",
    }


async def _reads_an_undeclared_filter(request: Request) -> Response:
    return JSONResponse({"limit": query_int(request, "limit"), "secret": query_text(request, "secret")})


async def test_a_handler_cannot_read_a_query_parameter_its_route_does_not_declare() -> None:
    route = ApiRoute(
        "GET",
        "/api/example",
        _reads_an_undeclared_filter,
        "An example",
        query=(QueryParam("limit", "integer", "How many", default=10),),
    )
    request = Request(
        {"type": "http", "method": "GET", "path": "/api/example", "query_string": b"secret=1", "headers": []}
    )
    with pytest.raises(LookupError, match="'secret'"):
        await route.endpoint(request)
