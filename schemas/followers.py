"""An OA's followers as the REST API and the follower.updated event show them (hub.followers owns them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SharedInfo(BaseModel):
    """What the user shared with the OA (user_submit_info, or the detail's shared_info)."""

    phone: str | None = None
    phone_e164: str | None = None
    name: str | None = None
    address: str | None = None
    city: str | None = None
    district: str | None = None


class Follower(BaseModel):
    """A Zalo user who interacted with one of the company's OAs."""

    id: str
    oa_link_id: str
    oa_id: str
    user_id: str  # callable through ZCC by user id when last_interaction_at is within 30 days
    display_name: str | None = None
    avatar: str | None = None
    is_follower: bool | None = None  # "Interested" / "Not interested"; None until Zalo or a webhook says
    last_interaction_at: datetime | None = None
    shared: SharedInfo | None = None
    tags: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class FollowerList(BaseModel):
    followers: list[Follower]
    next_before: str | None = None  # pass as `before` for the next page


class OaFollowerCount(BaseModel):
    """One OA's follower counts: what Zalo says and what the hub holds."""

    oa_link_id: str
    oa_id: str
    name: str
    zalo_total: int | None = None  # `total` of Zalo's user list at the last complete full sync
    zalo_num_follower: int | None = None  # getoa's num_follower (the OA link's info)
    last_sync_at: datetime | None = None


class FollowerStats(BaseModel):
    known: int  # users stored
    followers: int  # of them, following the OA now
    interacted_30d: int  # with an interaction in the last 30 days (callable through ZCC by user id)
    phone_known: int
    oas: list[OaFollowerCount]


class FollowerSyncStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full: bool = False  # walk every user, not only those who interacted since the last complete sync
