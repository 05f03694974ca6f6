"""ZNS journeys as the REST API and the journey.updated event show them (hub.journeys owns them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JourneyStatus = Literal["active", "charged", "expired"]


class JourneyCreate(BaseModel):
    """POST /api/zns/journeys: a journey token for one customer's phone, from one OA."""

    oa_id: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=8, max_length=20)
    token_type: str = Field(default="token_logistics_7", min_length=1, max_length=64)


class JourneySend(BaseModel):
    """POST /api/zns/journeys/{id}/messages: one template message within the journey, to its phone."""

    template_id: str = Field(min_length=1, max_length=64)
    template_data: dict[str, Any] = Field(default_factory=dict)
    tracking_id: str | None = Field(default=None, min_length=1, max_length=64)


class Journey(BaseModel):
    """A journey token of one phone: `token` is only its ends (never shown whole); `charged_at` when Zalo charged
    it (the first message delivered); `status` active, charged or expired (by Zalo's webhook or by time)."""

    id: str
    oa_id: str
    phone: str
    token: str
    journey_id: str | None
    token_type: str
    created_at: datetime
    expires_at: datetime
    charged_at: datetime | None
    charged: bool
    status: JourneyStatus
    ended_at: datetime | None = None
    created_by: str | None = None
    messages: int = 0  # messages sent within it
