"""ZNS campaigns (hub.zns_campaigns): create one from an uploaded list, the list, the counters, one with its
figures. Its rows, confirmation (with `run_at` for a scheduled one), time and cancelling are the generic job
routes (hub.api.jobs)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub import uploads
from hub.api.routing import ApiRoute, QueryParam, principal, query_text, reply, runtime
from hub.errors import Unprocessable
from schemas.campaigns import CampaignList, CampaignResponse, CampaignStats


async def create_campaign(request: Request) -> Response:
    """multipart/form-data: `file` (.xlsx or .csv: a phone column and one column per template parameter,
    headed by the parameter's name), `oa_id`, `template_id`, `name`. Nothing is sent: the answer is the
    campaign, staged, whose rows (GET /api/jobs/{id}/rows) show their problems."""
    hub, actor = runtime(request), principal(request)
    upload = await uploads.receive(request)
    oa_id, template_id = upload.fields.get("oa_id", "").strip(), upload.fields.get("template_id", "").strip()
    if not oa_id or not template_id:
        raise Unprocessable("pick the OA (oa_id) and the template (template_id)", "invalid_campaign")
    campaign = await hub.zns_campaigns.stage(
        actor,
        oa_id,
        template_id,
        upload.fields.get("name", ""),
        upload.filename,
        lambda columns: uploads.rows(upload, columns),
    )
    return reply(CampaignResponse.model_validate({"campaign": campaign}), status=201)


async def list_campaigns(request: Request) -> Response:
    campaigns = await runtime(request).zns_campaigns.list(principal(request), query_text(request, "status"))
    return reply(CampaignList.model_validate({"campaigns": campaigns}))


async def campaign_stats(request: Request) -> Response:
    return reply(CampaignStats.model_validate(await runtime(request).zns_campaigns.stats(principal(request))))


async def get_campaign(request: Request) -> Response:
    campaign = await runtime(request).zns_campaigns.get(principal(request), request.path_params["campaign_id"])
    return reply(CampaignResponse.model_validate({"campaign": campaign}))


ROUTES = [
    ApiRoute(
        "POST",
        "/api/zns/campaigns",
        create_campaign,
        "Upload a ZNS campaign's list to check before sending: multipart `file` (.xlsx or .csv; a Phone column "
        "and one column per template parameter), `oa_id`, `template_id`, `name`; answers the staged campaign "
        "with its estimated cost",
        response=CampaignResponse,
        status=201,
        errors=(400, 401, 403, 404, 409, 411, 413, 422, 502),
    ),
    ApiRoute(
        "GET",
        "/api/zns/campaigns",
        list_campaigns,
        "ZNS campaigns, newest first (status: pending, scheduled, processing, completed, failed, cancelled)",
        response=CampaignList,
        query=(QueryParam("status", "string", "Only campaigns in this status"),),
    ),
    ApiRoute(
        "GET",
        "/api/zns/campaigns/stats",
        campaign_stats,
        "Campaign counters: total, scheduled, immediate, pending, processing, completed, cancelled, failed",
        response=CampaignStats,
    ),
    ApiRoute(
        "GET",
        "/api/zns/campaigns/{campaign_id}",
        get_campaign,
        "One ZNS campaign with its figures (recorded, sent, delivered, charged, failed, unknown) and costs",
        response=CampaignResponse,
    ),
]
