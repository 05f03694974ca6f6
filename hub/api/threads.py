"""Zalo threads: list with filters, detail, messages page, send, mark read, request user info."""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hub import sheets, thread_sheet
from hub.api.routing import (
    SHEET_QUERY,
    ApiRoute,
    QueryParam,
    principal,
    query_bool,
    query_int,
    query_text,
    query_time,
    reply,
    runtime,
)
from hub.errors import PayloadTooLarge, Unprocessable
from hub.replies import FILE_MAX_BYTES
from hub.threads import MESSAGE_PAGE_MAX, TEXT_FILTER_MAX, summary
from schemas.chat import (
    AssignThread,
    Message,
    MessagePage,
    RequestInfo,
    SendMessage,
    ThreadLabel,
    ThreadList,
    ThreadSummary,
)


def _filters(request: Request) -> dict[str, Any]:
    """The thread list's filters (THREAD_FILTERS), as Threads.list takes them."""
    return {
        "oa": query_text(request, "oa"),
        "assignee": query_text(request, "assignee"),
        "label": query_text(request, "label"),
        "unread": query_bool(request, "unread"),
        "text": query_text(request, "text"),
        "status": query_text(request, "status"),
        "before": query_time(request, "before"),
        "phone": query_text(request, "phone"),
    }


async def list_threads(request: Request) -> Response:
    threads = await runtime(request).threads.list(
        principal(request), **_filters(request), after=query_text(request, "after"), limit=query_int(request, "limit")
    )
    return reply(ThreadList(threads=threads))


async def export_threads(request: Request) -> Response:
    """The list's filter as a sheet, streamed, a page at a time."""
    hub = runtime(request)
    actor = principal(request)
    company = await hub.directory.company(actor)
    members = await hub.directory.member_names(actor)
    labels = {label.id: label.name for label in await hub.labels.list(actor)}
    lang = cast(sheets.Lang, query_text(request, "lang"))
    fmt = cast(sheets.SheetFormat, query_text(request, "format"))
    threads = await hub.threads.each(actor, **_filters(request))
    day = hub.clock.now().astimezone(ZoneInfo(company.timezone)).date().isoformat()
    return sheets.sheet_response(
        f"threads-{day}",
        fmt,
        thread_sheet.HEADER[lang],
        thread_sheet.rows(threads, lang, company.timezone, members, labels),
    )


async def get_thread(request: Request) -> Response:
    thread = await runtime(request).threads.visible(principal(request), request.path_params["thread_id"])
    return reply(summary(thread))


async def messages(request: Request) -> Response:
    page, next_before = await runtime(request).threads.messages_page(
        principal(request), request.path_params["thread_id"], query_text(request, "before"), query_int(request, "limit")
    )
    return reply(MessagePage(messages=page, next_before=next_before))


async def send(request: Request, outgoing: SendMessage) -> Response:
    message, created = await runtime(request).replies.send(
        principal(request), request.path_params["thread_id"], outgoing
    )
    return reply(message, status=201 if created else 200)


async def request_info(request: Request, ask: RequestInfo) -> Response:
    message, created = await runtime(request).replies.request_info(
        principal(request), request.path_params["thread_id"], ask
    )
    return reply(message, status=201 if created else 200)


async def upload(request: Request) -> Response:
    """multipart/form-data with one `file` part; images up to 1 MB, other files up to 5 MB."""
    actor = principal(request)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > FILE_MAX_BYTES + 64 * 1024:
        raise PayloadTooLarge("Zalo takes files up to 5 MB")
    form = await request.form(max_files=1, max_fields=0, max_part_size=FILE_MAX_BYTES)
    part = form.get("file")
    if part is None or isinstance(part, str):
        raise Unprocessable("send the file as the multipart field `file`", "missing_file")
    content = await part.read()
    attachment = await runtime(request).replies.upload(
        actor,
        request.path_params["thread_id"],
        part.filename or "file",
        content,
        part.content_type or "application/octet-stream",
    )
    return reply(attachment, status=201)


async def assign(request: Request, to: AssignThread) -> Response:
    thread = await runtime(request).assignment.assign(
        principal(request), request.path_params["thread_id"], to.member_id
    )
    return reply(summary(thread))


async def resolve(request: Request) -> Response:
    thread = await runtime(request).assignment.resolve(principal(request), request.path_params["thread_id"])
    return reply(summary(thread))


async def reopen(request: Request) -> Response:
    thread = await runtime(request).assignment.reopen(principal(request), request.path_params["thread_id"])
    return reply(summary(thread))


async def add_label(request: Request, label: ThreadLabel) -> Response:
    thread = await runtime(request).labels.tag_thread(
        principal(request), request.path_params["thread_id"], label.label_id, True
    )
    return reply(summary(thread))


async def remove_label(request: Request) -> Response:
    thread = await runtime(request).labels.tag_thread(
        principal(request), request.path_params["thread_id"], request.path_params["label_id"], False
    )
    return reply(summary(thread))


async def mark_read(request: Request) -> Response:
    return reply(await runtime(request).threads.mark_read(principal(request), request.path_params["thread_id"]))


# The thread list's filters, read by _filters: the same for a page of the list and for its export.
THREAD_FILTERS = (
    QueryParam("oa", "string", "An OA link's id or the OA's own id"),
    QueryParam("assignee", "string", "A member's id, or `none` for the queue (managers and users: their own id only)"),
    QueryParam("label", "string", "A label's id"),
    QueryParam("unread", "boolean", "true: threads with unread messages; false: threads without"),
    QueryParam(
        "text",
        "string",
        f"Part of the customer's name or phone number (any form) or of the "
        f"last message, any case; at most {TEXT_FILTER_MAX} characters",
    ),
    QueryParam("status", "string", "open or resolved"),
    QueryParam("before", "time", "Threads whose last message came before this time"),
    QueryParam("phone", "string", "The customer's shared phone number, in any form (0912…, 84912…, +84912…)"),
)

ROUTES = [
    ApiRoute(
        "GET",
        "/api/threads",
        list_threads,
        "List visible threads, newest first (filters: oa, assignee, label, unread, text, status, before, phone, "
        "limit; after=<the last thread id of a page> for the next page)",
        response=ThreadList,
        query=(
            *THREAD_FILTERS,
            QueryParam("after", "string", "The last thread id of the previous page: the page after it"),
            QueryParam("limit", "integer", "Threads per page, 1 to 200", default=50),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/threads/export",
        export_threads,
        "The thread list's filter as an Excel (.xlsx) or CSV file, streamed (customer, phone, OA, status, "
        "assignee, labels, unread, last message and when, created), times in the company's time zone",
        query=(
            *SHEET_QUERY,
            *THREAD_FILTERS,
        ),
    ),
    ApiRoute("GET", "/api/threads/{thread_id}", get_thread, "One thread", response=ThreadSummary),
    ApiRoute(
        "GET",
        "/api/threads/{thread_id}/messages",
        messages,
        "Messages newest first; pass next_before as ?before= for older ones",
        response=MessagePage,
        query=(
            QueryParam("before", "string", "A message id (next_before of the previous page): messages older than it"),
            QueryParam("limit", "integer", f"Messages per page, 1 to {MESSAGE_PAGE_MAX}", default=30),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/messages",
        send,
        "Reply through the OA (201 sent or failed with a reason; 200 for a retried client_msg_id; "
        "409 when the reply window is blocked)",
        request=SendMessage,
        response=Message,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/attachments",
        upload,
        "Upload an image or file through the thread's OA (multipart field `file`); send the answer as "
        "`attachment` of a message",
        status=201,
        errors=(400, 401, 404, 409, 413, 422),
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/assign",
        assign,
        "Assign to a member (owner: any thread; manager: their own threads; null: back to the queue)",
        request=AssignThread,
        response=ThreadSummary,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/resolve",
        resolve,
        "Resolve (history kept; a new message reopens)",
        response=ThreadSummary,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/reopen",
        reopen,
        "Reopen a resolved thread",
        response=ThreadSummary,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/labels",
        add_label,
        "Put a label on the thread",
        request=ThreadLabel,
        response=ThreadSummary,
        publishes=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/threads/{thread_id}/labels/{label_id}",
        remove_label,
        "Take a label off the thread",
        response=ThreadSummary,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/read",
        mark_read,
        "Mark the thread read",
        response=ThreadSummary,
        publishes=True,
    ),
    ApiRoute(
        "POST",
        "/api/threads/{thread_id}/request-info",
        request_info,
        "Ask the customer to share phone and address",
        request=RequestInfo,
        response=Message,
        status=201,
        publishes=True,
    ),
]
