"""ZNS campaigns (hub.zns_campaigns) as the REST API gives them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from schemas.jobs import Job

CampaignStatus = Literal["pending", "scheduled", "processing", "completed", "failed", "cancelled"]


class CampaignFigures(BaseModel):
    """Rows recorded (uploaded, less those deleted) and valid; messages sent (Zalo answered with a msg_id),
    delivered, charged; rows failed; messages unknown (the hub stopped during Zalo's call; the delivery
    receipt resolves them); the cost of the messages charged (VND)."""

    recorded: int
    valid: int
    sent: int
    delivered: int
    charged: int
    failed: int
    unknown: int
    actual_cost: float


class Campaign(BaseModel):
    """A campaign: its job (progress, rows) with its name, OA, template and costs. `scheduled_at`: when a
    campaign not started yet starts; `immediate`: confirmed to send at once rather than at a time;
    `estimated_cost` = valid rows × `unit_price` (Zalo's price of the template, else the company's)."""

    id: str
    name: str | None
    oa_id: str | None
    template_id: str | None
    template_name: str | None
    status: CampaignStatus
    scheduled_at: datetime | None
    immediate: bool
    unit_price: float | None
    estimated_cost: float | None
    job: Job
    figures: CampaignFigures | None = None


class CampaignResponse(BaseModel):
    campaign: Campaign


class CampaignList(BaseModel):
    campaigns: list[Campaign]


class CampaignStats(BaseModel):
    """The product guide's counters."""

    total: int
    scheduled: int
    immediate: int
    pending: int
    processing: int
    completed: int
    cancelled: int
    failed: int
