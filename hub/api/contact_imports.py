"""Contact imports: upload, preview, confirm (hub.contact_import on the shared job runner)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub import uploads
from hub.api.routing import ApiRoute, QueryParam, principal, query_bool, query_int, reply, runtime


async def start_import(request: Request) -> Response:
    """multipart/form-data with the file in `file` (hub.uploads): read and staged, answered with the staged job."""
    importer = runtime(request).contact_import
    upload = await uploads.receive(request, importer.max_bytes)
    return reply(await importer.stage(principal(request), upload), status=201)


async def get_import(request: Request) -> Response:
    return reply(await runtime(request).contact_import.get(principal(request), request.path_params["job_id"]))


async def import_rows(request: Request) -> Response:
    rows = await runtime(request).contact_import.preview(
        principal(request),
        request.path_params["job_id"],
        query_int(request, "offset"),
        query_int(request, "limit"),
        bool(query_bool(request, "problems")),
    )
    return reply({"rows": rows})


async def confirm_import(request: Request) -> Response:
    return reply(await runtime(request).contact_import.confirm(principal(request), request.path_params["job_id"]))


async def cancel_import(request: Request) -> Response:
    return reply(await runtime(request).contact_import.cancel(principal(request), request.path_params["job_id"]))


# Before /api/contacts/{contact_id} in the app's list (hub.app): "imports" is no contact id.
ROUTES = [
    ApiRoute(
        "POST",
        "/api/contacts/imports",
        start_import,
        "Upload a .xlsx or .csv (multipart field 'file'): its rows are staged with their problems for a "
        "preview; nothing is saved until confirmed",
        status=201,
        errors=(400, 401, 403, 411, 413, 422),
    ),
    ApiRoute("GET", "/api/contacts/imports/{job_id}", get_import, "An import's job: status and progress"),
    ApiRoute(
        "GET",
        "/api/contacts/imports/{job_id}/rows",
        import_rows,
        "A page of an import's rows with their problems, and the contact a row would update",
        query=(
            QueryParam("problems", "boolean", "true: only the rows with problems"),
            QueryParam("offset", "integer", "Rows to skip", default=0),
            QueryParam("limit", "integer", "At most this many (up to 1000)", default=100),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/contacts/imports/{job_id}/confirm",
        confirm_import,
        "Import the valid rows (progress comes as job.updated; contacts.imported at the end)",
    ),
    ApiRoute("POST", "/api/contacts/imports/{job_id}/cancel", cancel_import, "Stop an import or drop its preview"),
]
