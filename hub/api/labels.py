"""Company labels."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, principal, reply, runtime
from schemas.chat import Label, LabelCreate, LabelList, LabelUpdate


async def list_labels(request: Request) -> Response:
    return reply(LabelList(labels=await runtime(request).labels.list(principal(request))))


async def create_label(request: Request, label: LabelCreate) -> Response:
    return reply(await runtime(request).labels.create(principal(request), label.name, label.color), status=201)


async def update_label(request: Request, change: LabelUpdate) -> Response:
    label = await runtime(request).labels.update(
        principal(request), request.path_params["label_id"], change.name, change.color
    )
    return reply(label)


async def delete_label(request: Request) -> Response:
    await runtime(request).labels.delete(principal(request), request.path_params["label_id"])
    return Response(status_code=204)


ROUTES = [
    ApiRoute("GET", "/api/labels", list_labels, "The company's labels", response=LabelList),
    ApiRoute(
        "POST",
        "/api/labels",
        create_label,
        "Create a label (owners, managers)",
        request=LabelCreate,
        response=Label,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "PATCH",
        "/api/labels/{label_id}",
        update_label,
        "Rename or recolour a label (owners, managers)",
        request=LabelUpdate,
        response=Label,
        publishes=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/labels/{label_id}",
        delete_label,
        "Delete a label; it leaves every thread",
        status=204,
        publishes=True,
    ),
]
