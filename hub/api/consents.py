"""ZCC call consents and ZNS template messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from hub import consent_bulk, consent_sheets, sheets, uploads
from hub.api.routing import SHEET_QUERY, ApiRoute, QueryParam, principal, query_text, query_time, reply, runtime
from hub.errors import Unprocessable
from schemas.jobs import JobResponse
from schemas.rest import ConsentRequest, ZnsSend

CALL_TYPES = ("audio", "video", "audio_and_video")
# The exact-match filters of each list: declared on its route, and what _filters reads.
CONSENT_FIELDS = (
    QueryParam("oa_id", "string", "The OA's id"),
    QueryParam("phone", "string", "The customer's number, in any form (0912…, 84912…, +84912…)"),
    QueryParam("reason_code", "string", "Zalo's reason code, a number such as 101"),
    QueryParam("requested_by", "string", "The id of the member who asked (a user sees only their own)"),
    QueryParam("customer_answer", "string", "The customer's answer as Zalo sent it"),
    QueryParam("status", "string", "waiting, agreed, rejected, no_response, expired or failed"),
    QueryParam("call_type", "string", "audio, video or audio_and_video"),
)
ZNS_FIELDS = (
    QueryParam("oa_id", "string", "The OA's id"),
    QueryParam("phone", "string", "The customer's number, in any form (0912…, 84912…, +84912…)"),
    QueryParam("template_id", "string", "The ZNS template's id"),
    QueryParam("status", "string", "processing, success or failure"),
    QueryParam("tracking_id", "string", "The tracking id given when sending"),
    QueryParam("msg_id", "string", "Zalo's message id"),
    QueryParam("campaign_id", "string", "Only the messages of this ZNS campaign"),
)
CHARGED = QueryParam(
    "charged", "string", "true: only those Zalo charged for; false: only free ones; any other value: both"
)


def _period(what: str) -> tuple[QueryParam, ...]:
    return (
        QueryParam("from", "time", f"{what} at or after this time"),
        QueryParam("to", "time", f"{what} before this time"),
    )


def _filters(request: Request, fields: tuple[QueryParam, ...]) -> dict[str, Any]:
    filters: dict[str, Any] = {field.name: value for field in fields if (value := query_text(request, field.name))}
    charged = query_text(request, CHARGED.name)
    if charged in ("true", "false"):
        filters["charged"] = charged == "true"
    filters["from"], filters["to"] = query_time(request, "from"), query_time(request, "to")
    return filters


async def request_consent(request: Request, ask: ConsentRequest) -> Response:
    consent = await runtime(request).consents.request(
        principal(request), ask.oa_id, ask.phone, ask.reason_code, ask.call_type
    )
    return reply(consent, status=201)


async def import_consents(request: Request) -> Response:
    """multipart/form-data: `file` (.xlsx or .csv with a phone column and an optional reason column),
    `reason_code` (the reason of lines that name none), `call_type`. Nothing is sent: the answer is a
    staged job whose lines (GET /api/jobs/{id}/rows) show their problems; confirm it with the OA."""
    hub, actor = runtime(request), principal(request)
    upload = await uploads.receive(request)
    default = upload.fields.get("reason_code", "").strip()
    if default and not default.isdigit():
        raise Unprocessable("reason_code is a number such as 101", "invalid_reason_code")
    call_type = upload.fields.get("call_type") or "audio"
    if call_type not in CALL_TYPES:
        raise Unprocessable(f"call_type is one of {', '.join(CALL_TYPES)}", "invalid_call_type")
    rows = uploads.rows(upload, consent_bulk.COLUMNS)
    job = await hub.consent_bulk.stage(actor, upload.filename, rows, int(default) if default else None, call_type)
    return reply(JobResponse.model_validate({"job": job}), status=201)


async def list_consents(request: Request) -> Response:
    filters = _filters(request, CONSENT_FIELDS)
    return reply({"consents": await runtime(request).consents.list(principal(request), filters)})


async def send_zns(request: Request, zns: ZnsSend) -> Response:
    message = await runtime(request).zns.send(
        principal(request), zns.oa_id, zns.phone, zns.template_id, zns.template_data, zns.tracking_id
    )
    return reply(message, status=201)


async def list_zns(request: Request) -> Response:
    filters = _filters(request, ZNS_FIELDS)
    return reply({"messages": await runtime(request).zns.list(principal(request), filters)})


async def _export(
    request: Request,
    name: str,
    header: dict[sheets.Lang, tuple[str, ...]],
    rows: Any,
    records: AsyncIterator[dict[str, Any]],
) -> Response:
    hub = runtime(request)
    actor = principal(request)
    company = await hub.directory.company(actor)
    members = await hub.directory.member_names(actor)
    lang = cast(sheets.Lang, query_text(request, "lang"))
    fmt = cast(sheets.SheetFormat, query_text(request, "format"))
    day = hub.clock.now().astimezone(ZoneInfo(company.timezone)).date().isoformat()
    return sheets.sheet_response(f"{name}-{day}", fmt, header[lang], rows(records, lang, company.timezone, members))


async def export_consents(request: Request) -> Response:
    records = runtime(request).consents.each(principal(request), _filters(request, CONSENT_FIELDS))
    return await _export(request, "consents", consent_sheets.CONSENT_HEADER, consent_sheets.consent_rows, records)


async def export_zns(request: Request) -> Response:
    records = runtime(request).zns.each(principal(request), _filters(request, ZNS_FIELDS))
    return await _export(request, "zns", consent_sheets.ZNS_HEADER, consent_sheets.zns_rows, records)


async def get_zns(request: Request) -> Response:
    return reply(await runtime(request).zns.get(principal(request), request.path_params["message_id"]))


async def zns_stats(request: Request) -> Response:
    return reply(
        await runtime(request).zns.stats(principal(request), query_time(request, "from"), query_time(request, "to"))
    )


ROUTES = [
    ApiRoute(
        "POST",
        "/api/consents/imports",
        import_consents,
        "Upload a list of call requests (ZCC) to check before sending: multipart `file` (.xlsx or .csv; columns "
        "Số điện thoại/Phone and Lý do/Reason), `reason_code`, `call_type`; answers the staged job",
        response=JobResponse,
        status=201,
        errors=(400, 401, 403, 404, 409, 411, 413, 422),
    ),
    ApiRoute(
        "POST",
        "/api/consents",
        request_consent,
        "Ask a customer for ZCC call consent (409 with can_resend_at when the resend rules forbid it)",
        request=ConsentRequest,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "GET",
        "/api/consents",
        list_consents,
        "Consent requests (from, to, oa_id, phone, reason_code, requested_by, customer_answer, status, "
        "call_type, charged)",
        query=(*CONSENT_FIELDS, CHARGED, *_period("Requests made")),
    ),
    ApiRoute(
        "GET",
        "/api/consents/export",
        export_consents,
        "The consent list's filter as an Excel (.xlsx) or CSV file, streamed, times in the company's time zone",
        query=(*SHEET_QUERY, *CONSENT_FIELDS, CHARGED, *_period("Requests made")),
    ),
    ApiRoute(
        "POST",
        "/api/zns/messages",
        send_zns,
        "Send one ZNS template message (refused 22:00-06:00)",
        request=ZnsSend,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "GET",
        "/api/zns/messages",
        list_zns,
        "ZNS messages (from, to, oa_id, phone, template_id, status, tracking_id, msg_id, charged)",
        query=(*ZNS_FIELDS, CHARGED, *_period("Messages sent")),
    ),
    ApiRoute(
        "GET",
        "/api/zns/messages/export",
        export_zns,
        "The ZNS list's filter as an Excel (.xlsx) or CSV file, streamed, times in the company's time zone",
        query=(*SHEET_QUERY, *ZNS_FIELDS, CHARGED, *_period("Messages sent")),
    ),
    ApiRoute("GET", "/api/zns/messages/{message_id}", get_zns, "One ZNS message with its delivery and review"),
    ApiRoute(
        "GET",
        "/api/zns/stats",
        zns_stats,
        "Sent, charged, free, success, failed and total spend (default the last 7 days, at most 3 months)",
        query=_period("Messages sent"),
    ),
]
