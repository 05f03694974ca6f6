"""The dashboard's figures as GET /api/dashboard answers them (computed in hub.dashboard)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CallTotals(BaseModel):
    extensions: int = 0  # the company's extensions now
    calls: int = 0
    answered: int = 0
    missed: int = 0
    short_abandoned: int = 0  # hung up within the company's short-abandon seconds: not a missed call
    failed: int = 0
    talk_s: float = 0.0
    duration_s: float = 0.0


class CallDay(BaseModel):
    day: str  # yyyy-mm-dd in the company's time zone
    answered: int = 0
    missed: int = 0
    short_abandoned: int = 0
    failed: int = 0
    other: int = 0  # not finalized yet (live, or ended within the grace seconds)


class CallHour(BaseModel):
    hour: int  # 0-23 in the company's time zone
    calls: int = 0


class CallRow(BaseModel):
    """A member's or an extension's calls: those that rang them; answered and talk time, the ones they took."""

    member_id: str | None = None
    extension: str | None = None
    calls: int = 0
    answered: int = 0
    missed: int = 0
    failed: int = 0
    talk_s: float = 0.0


class MissedCallStates(BaseModel):
    """The period's missed calls by their follow-up state (hub.missed_calls)."""

    open: int = 0
    called_back: int = 0
    handled: int = 0


class CallFigures(BaseModel):
    totals: CallTotals
    per_day: list[CallDay]
    per_hour: list[CallHour]  # always 24 rows
    per_member: list[CallRow]
    per_extension: list[CallRow]
    missed_calls: MissedCallStates


class AgentChat(BaseModel):
    """One responder's chat figures. `member_id` None: replies typed in Zalo's own OA tools, or threads
    resolved while nobody was assigned."""

    member_id: str | None = None
    first_responses: int = 0
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    resolved: int = 0
    resolution_median_s: float | None = None
    resolution_p90_s: float | None = None


class ChatFigures(BaseModel):
    new_threads: int = 0
    messages_in: int = 0
    messages_out: int = 0
    first_responses: int = 0  # threads the customer wrote to in the period that were answered in it
    awaiting_reply: int = 0  # threads the customer wrote to in the period with no reply in it yet
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    resolved: int = 0
    resolution_median_s: float | None = None
    open_now: int = 0
    queued_now: int = 0
    per_agent: list[AgentChat] = Field(default_factory=list)


class DashboardFigures(BaseModel):
    start: datetime  # the period: start <= t < end
    end: datetime
    timezone: str
    calls: CallFigures
    chat: ChatFigures
