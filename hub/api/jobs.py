"""Long jobs (hub.jobs): the list, one job, its staged rows (the preview, edited before it starts), confirm
and cancel. An import or a bulk send is created by its own route (it parses its own file); the rest is here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.api.routing import ApiRoute, QueryParam, principal, query_bool, query_int, query_text, reply, runtime
from hub.errors import NotFound
from schemas.jobs import JobConfirm, JobList, JobResponse, JobRowEdit, JobRowResponse, JobRows, JobSchedule


def _row_number(request: Request) -> int:
    text = request.path_params["n"]
    if not (text.isdecimal() and text.isascii() and len(text) <= 7):
        raise NotFound("a row is named by its number", "job_row_not_found")
    return int(text)


async def list_jobs(request: Request) -> Response:
    jobs = await runtime(request).jobs.recent(
        principal(request), query_text(request, "kind"), query_int(request, "limit")
    )
    return reply(JobList.model_validate({"jobs": jobs}))


async def get_job(request: Request) -> Response:
    job = await runtime(request).jobs.get(principal(request), request.path_params["job_id"])
    return reply(JobResponse.model_validate({"job": job}))


async def job_rows(request: Request) -> Response:
    rows = await runtime(request).jobs.rows(
        principal(request),
        request.path_params["job_id"],
        query_int(request, "offset"),
        query_int(request, "limit"),
        bool(query_bool(request, "problems")),
    )
    return reply(JobRows.model_validate({"rows": rows}))


async def edit_row(request: Request, edit: JobRowEdit) -> Response:
    row = await runtime(request).jobs.edit_row(
        principal(request), request.path_params["job_id"], _row_number(request), edit.data
    )
    return reply(JobRowResponse.model_validate({"row": row}))


async def delete_row(request: Request) -> Response:
    await runtime(request).jobs.delete_row(principal(request), request.path_params["job_id"], _row_number(request))
    return Response(status_code=204)


async def confirm_job(request: Request, confirm: JobConfirm) -> Response:
    job = await runtime(request).jobs.confirm(
        principal(request), request.path_params["job_id"], confirm.params, confirm.run_at
    )
    return reply(JobResponse.model_validate({"job": job}))


async def schedule_job(request: Request, schedule: JobSchedule) -> Response:
    job = await runtime(request).jobs.reschedule(principal(request), request.path_params["job_id"], schedule.run_at)
    return reply(JobResponse.model_validate({"job": job}))


async def cancel_job(request: Request) -> Response:
    job = await runtime(request).jobs.cancel(principal(request), request.path_params["job_id"])
    return reply(JobResponse.model_validate({"job": job}))


ROUTES = [
    ApiRoute(
        "GET",
        "/api/jobs",
        list_jobs,
        "Imports, bulk sends and syncs, newest first (a user: the ones they started)",
        response=JobList,
        query=(
            QueryParam("kind", "string", "Only jobs of this kind, such as contacts.import"),
            QueryParam("limit", "integer", "At most this many", default=50),
        ),
    ),
    ApiRoute("GET", "/api/jobs/{job_id}", get_job, "One job with its progress", response=JobResponse),
    ApiRoute(
        "GET",
        "/api/jobs/{job_id}/rows",
        job_rows,
        "A job's rows in order, each with its problems and, once worked, its outcome",
        response=JobRows,
        query=(
            QueryParam("offset", "integer", "Skip this many rows", default=0),
            QueryParam("limit", "integer", "At most this many rows (up to 1,000)", default=100),
            QueryParam("problems", "boolean", "true: only the rows with problems"),
        ),
    ),
    ApiRoute(
        "PATCH",
        "/api/jobs/{job_id}/rows/{n}",
        edit_row,
        "Change a row of a job not yet confirmed; its problems are checked again",
        request=JobRowEdit,
        response=JobRowResponse,
    ),
    ApiRoute(
        "DELETE",
        "/api/jobs/{job_id}/rows/{n}",
        delete_row,
        "Leave a row out of a job not yet confirmed",
        status=204,
    ),
    ApiRoute(
        "POST",
        "/api/jobs/{job_id}/confirm",
        confirm_job,
        "Start a staged job: its valid rows are worked, once each, with live progress (job.updated)",
        request=JobConfirm,
        response=JobResponse,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/jobs/{job_id}/schedule",
        schedule_job,
        "Move a job not started yet to another time (`run_at`), or start it now (`run_at` null)",
        request=JobSchedule,
        response=JobResponse,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/jobs/{job_id}/cancel",
        cancel_job,
        "Stop a job: not started, it never starts; running, it stops after its current batch",
        response=JobResponse,
        publishes=True,
    ),
]
